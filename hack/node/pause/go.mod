// The pause image's program: holds a pod's namespaces open and does nothing else.
module msop.dev/hack/node/pause

go 1.26.0
