{{/*
The one list of what the operator may do in the namespaces it watches: exactly the
calls src/kube makes, and no more. test/unit/helm/rbac.test.ts keeps it in step
with src/kube/resources.ts. Leases are not here: the leader-election Role grants
them in the release namespace only.
*/}}
{{- define "msop.rules" -}}
- apiGroups: [msop.dev]
  resources: [microservices]
  verbs: [get, list, watch, patch]
- apiGroups: [msop.dev]
  resources: [microservices/status]
  verbs: [patch]
- apiGroups: [apps]
  resources: [deployments, replicasets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [patch]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [configmaps, secrets]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods]
  verbs: [list, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list]
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.istio.io]
  resources: [virtualservices]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, patch, delete]
{{- end }}

{{/*
The cluster-scoped reads, whatever the watched namespaces: the Environments, and the
namespaces' labels their namespaceSelectors match. The operator lists and watches them
(metadata only for namespaces) and never gets, writes or deletes either.
*/}}
{{- define "msop.clusterRules" -}}
- apiGroups: [msop.dev]
  resources: [environments]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
{{- end }}

{{/* The leader-election rules, in the release namespace. */}}
{{- define "msop.leaderElectionRules" -}}
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [msop-leader]
  verbs: [get, update]
{{- end }}
