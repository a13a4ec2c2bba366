# Sourced by the node scripts: podman with its own storage and configuration, so
# it neither reads nor changes the machine's. runc, not crun (crun refuses cgroup v1
# hybrid mode), and no default ulimits (raising an rlimit needs CAP_SYS_RESOURCE).
NODE_STATE=${NODE_STATE:-$CLUSTER_CACHE_ROOT/node-state/${CLUSTER_NAME:-msop-node}}
CONTAINERD_SOCK=$NODE_STATE/containerd/containerd.sock
mkdir -p "$NODE_IMAGES/podman"
export CONTAINERS_CONF=$NODE_IMAGES/podman/containers.conf CONTAINERS_STORAGE_CONF=$NODE_IMAGES/podman/storage.conf
cat > "$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat > "$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$NODE_IMAGES/podman/storage"
runroot = "/run/msop-node-podman"
CONF
