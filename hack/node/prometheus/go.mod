// Wrapper module: builds Prometheus with Kubernetes service discovery only (Debian's
// package is built without it), for the node tier's analysis test.
module msop.dev/hack/node/prometheus

go 1.26.7

require github.com/prometheus/prometheus v0.316.0
