// What test/corpus/real-renders.mjs renders: Go modules that carry a Helm chart or Kustomize
// bases, pinned to exact versions (the Go module proxy serves a version's zip unchanged forever,
// and its checksum is verified against the checksum database), each rendered with its defaults
// and with one value set that turns on the parts the defaults leave out (Ingress, webhooks,
// monitoring, ConfigMaps with config files, Secrets). Values are ours, written for these tests.
//
// Chosen so that together they hold: Deployments, a StatefulSet, DaemonSets, Jobs, Secrets,
// ConfigMaps with multi-line values, large CRDs whose descriptions contain `<`, RBAC, Services,
// Ingresses, admission webhooks, an APIService. Left out: prometheus-operator (its bundle is
// 4.2 MB of CRDs, more than the rest together), and modules whose go.mod needs Go 1.27
// (argo-cd v3.6.x, external-dns v0.23.0): the machine's Go 1.26 refuses to download them.

// helm built by `go install` assumes Kubernetes v1.20, older than every chart here allows.
export const KUBE_VERSION = '1.33.0';
// As if the Prometheus Operator and cert-manager were installed, so the charts render their
// ServiceMonitor, PrometheusRule, Certificate and Issuer resources when asked to.
export const API_VERSIONS = ['monitoring.coreos.com/v1', 'cert-manager.io/v1'];

// Text for values that must look like PEM blocks; not a real key or certificate.
const pem = (label) =>
  `-----BEGIN ${label}-----\n${Buffer.from(`vaultfill test corpus: not a real ${label.toLowerCase()}\n`.repeat(3)).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;

// The chart inside the module is unreleased (its version is v0.0.0): image tags are set.
const CM_TAG = { tag: 'v1.21.2' };
const certManagerImages = {
  image: CM_TAG,
  webhook: { image: CM_TAG },
  cainjector: { image: CM_TAG },
  startupapicheck: { image: CM_TAG },
  acmesolver: { image: CM_TAG },
};

export const SOURCES = [
  {
    module: 'github.com/stefanprodan/podinfo',
    // Its v6 tags lack the /v6 module suffix, so no tag is a version: a pseudo-version of chart 6.9.2.
    version: 'v1.8.1-0.20250910200901-e86405a8674e',
    release: 'podinfo',
    renders: [
      { name: 'podinfo-defaults', chart: 'charts/podinfo' },
      { name: 'podinfo-prod', chart: 'charts/podinfo', valuesFiles: ['charts/podinfo/values-prod.yaml'] },
      {
        name: 'podinfo-features',
        chart: 'charts/podinfo',
        values: {
          replicaCount: 2,
          podDisruptionBudget: { maxUnavailable: 1 },
          redis: { enabled: true },
          hpa: { enabled: true, maxReplicas: 5, cpu: 80, memory: '512Mi' },
          ingress: {
            enabled: true,
            className: 'nginx',
            annotations: { 'nginx.ingress.kubernetes.io/configuration-snippet': 'more_set_headers "X-Served-By: podinfo";\n' },
            hosts: [{ host: 'podinfo.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }],
            tls: [{ secretName: 'podinfo-tls', hosts: ['podinfo.example.com'] }],
          },
          certificate: { create: true, dnsNames: ['podinfo.example.com'] },
          tls: { enabled: true, secretName: 'podinfo-tls' },
          serviceAccount: { enabled: true },
          serviceMonitor: { enabled: true },
          linkerd: { profile: { enabled: true } },
        },
      },
      { name: 'podinfo-kustomize', kustomize: 'kustomize' },
    ],
  },
  {
    module: 'k8s.io/ingress-nginx',
    // The newest version this module path has: a pseudo-version of chart 4.11.0 (controller 1.11.0).
    version: 'v0.0.0-20240708192948-52c50467d67d',
    release: 'ingress-nginx',
    renders: [
      { name: 'ingress-nginx-defaults', chart: 'charts/ingress-nginx' },
      {
        name: 'ingress-nginx-features',
        chart: 'charts/ingress-nginx',
        values: {
          controller: {
            kind: 'DaemonSet',
            config: {
              'use-forwarded-headers': 'true',
              'log-format-upstream': '$remote_addr - [$time_local] "$request" $status <$upstream_addr>',
              'http-snippet': 'server {\n  listen 18080;\n  location /nginx-health {\n    return 200;\n  }\n}\n',
            },
            addHeaders: { 'X-Frame-Options': 'DENY' },
            proxySetHeaders: { 'X-Request-Start': 't=${msec}' },
            metrics: {
              enabled: true,
              serviceMonitor: { enabled: true },
              prometheusRule: {
                enabled: true,
                rules: [
                  {
                    alert: 'NGINXConfigFailed',
                    expr: 'count(nginx_ingress_controller_config_last_reload_successful == 0) > 0',
                    for: '1s',
                    labels: { severity: 'critical' },
                    annotations: { summary: 'the last configuration reload failed', description: 'nginx -t failed:\nroll back the latest Ingress change.' },
                  },
                ],
              },
            },
            networkPolicy: { enabled: true },
            admissionWebhooks: { certManager: { enabled: true } },
          },
          defaultBackend: {
            enabled: true,
            extraConfigMaps: [
              {
                name: 'custom-error-pages',
                data: { '404.html': '<!DOCTYPE html>\n<html>\n  <body><h1>404: not found</h1></body>\n</html>\n' },
              },
            ],
          },
          tcp: { 9000: 'default/tcp-echo:9000' },
          udp: { 53: 'kube-system/kube-dns:53' },
          dhParam: Buffer.from(pem('DH PARAMETERS')).toString('base64'),
        },
      },
    ],
  },
  {
    module: 'github.com/cert-manager/cert-manager',
    version: 'v1.21.2',
    release: 'cert-manager',
    renders: [
      { name: 'cert-manager-crds', chart: 'deploy/charts/cert-manager', values: { ...certManagerImages, crds: { enabled: true } } },
      {
        name: 'cert-manager-features',
        chart: 'deploy/charts/cert-manager',
        values: {
          ...certManagerImages,
          replicaCount: 2,
          podDisruptionBudget: { enabled: true, minAvailable: 1 },
          networkPolicy: { enabled: true },
          prometheus: { servicemonitor: { enabled: true } },
          dns01RecursiveNameservers: '8.8.8.8:53,1.1.1.1:53',
          config: {
            logging: { verbosity: 2, format: 'text' },
            leaderElectionConfig: { namespace: 'kube-system' },
            kubernetesAPIQPS: 9000,
            kubernetesAPIBurst: 9000,
            numberOfConcurrentWorkers: 200,
            enableGatewayAPI: true,
          },
          webhook: {
            ...certManagerImages.webhook,
            replicaCount: 2,
            podDisruptionBudget: { enabled: true },
            networkPolicy: { enabled: true },
            config: { securePort: 10260 },
          },
          cainjector: {
            ...certManagerImages.cainjector,
            config: { logging: { format: 'json' } },
          },
          extraObjects: [
            'apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme:\n    email: ops@example.com\n    server: https://acme-v02.api.letsencrypt.org/directory\n    privateKeySecretRef:\n      name: letsencrypt-account-key\n    solvers:\n      - http01:\n          ingress:\n            ingressClassName: nginx\n',
          ],
        },
      },
    ],
  },
  {
    module: 'sigs.k8s.io/metrics-server',
    version: 'v0.9.0',
    release: 'metrics-server',
    renders: [
      { name: 'metrics-server-defaults', chart: 'charts/metrics-server' },
      {
        name: 'metrics-server-features',
        chart: 'charts/metrics-server',
        values: {
          replicas: 2,
          podDisruptionBudget: { enabled: true, minAvailable: 1 },
          args: ['--kubelet-insecure-tls'],
          metrics: { enabled: true },
          serviceMonitor: { enabled: true },
          addonResizer: { enabled: true },
          apiService: { insecureSkipTLSVerify: false },
          tls: { type: 'cert-manager' },
        },
      },
    ],
  },
  {
    module: 'github.com/bitnami-labs/sealed-secrets',
    version: 'v0.40.0',
    release: 'sealed-secrets',
    renders: [
      { name: 'sealed-secrets-defaults', chart: 'helm/sealed-secrets' },
      {
        name: 'sealed-secrets-features',
        chart: 'helm/sealed-secrets',
        values: {
          ingress: {
            enabled: true,
            ingressClassName: 'nginx',
            hostname: 'sealed-secrets.example.com',
            tls: true,
            // Not `secrets`: its template reads .Values inside a range and fails in v0.40.0; nor
            // `selfSigned`: genCA makes every render different.
          },
          networkPolicy: { enabled: true },
          metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, dashboards: { create: true } },
        },
      },
    ],
  },
  {
    module: 'github.com/argoproj/argo-cd/v3',
    // The newest release the machine's Go 1.26 accepts (v3.6.x needs Go 1.27). A 56 MB zip.
    version: 'v3.5.7',
    release: 'argocd',
    renders: [
      { name: 'argo-cd-cluster-install', kustomize: 'manifests/cluster-install' },
      { name: 'argo-cd-ha-namespace-install', kustomize: 'manifests/ha/namespace-install' },
    ],
  },
];
