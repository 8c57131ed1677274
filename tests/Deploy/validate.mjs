#!/usr/bin/env node
// Validates a rendered kustomize overlay (`kubectl kustomize k8s/overlays/NAME`), from a file
// argument or stdin: every object against its Kubernetes schema (kubernetes-models: apiVersion/kind
// -> model class -> validate(), offline), then the PRH silo invariants. Exits 1 listing every
// violation as "Kind/name: [rule] message"; on success prints a table of the objects.
//
//   kubectl kustomize k8s/overlays/dev | node tests/Deploy/validate.mjs [--label dev]
//   node tests/Deploy/validate.mjs rendered.yaml
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
let label = "";
let file = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--label") label = args[++i] ?? "";
  else file = args[i];
}
const text = readFileSync(file ?? 0, "utf8");
const errors = [];
const fail = (obj, rule, message) =>
  errors.push(`${obj ? `${obj.kind}/${obj.metadata?.name ?? "?"}` : "render"}: [${rule}] ${message}`);

// ---- parse -------------------------------------------------------------------------------
const objects = [];
for (const doc of parseAllDocuments(text)) {
  if (doc.errors.length) {
    for (const e of doc.errors) fail(null, "yaml", e.message);
    continue;
  }
  const value = doc.toJS();
  if (value == null) continue;
  if (value.kind === "List" && Array.isArray(value.items)) objects.push(...value.items);
  else objects.push(value);
}
if (objects.length === 0) fail(null, "non-empty", "no Kubernetes objects in the input");

// ---- schemas -----------------------------------------------------------------------------
// "apps/v1" -> kubernetes-models/apps/v1, "v1" -> kubernetes-models/v1 (the core group).
async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) return null;
  try {
    const mod = await import(`kubernetes-models/${apiVersion}`);
    return typeof mod[kind] === "function" ? mod[kind] : null;
  } catch {
    return null;
  }
}
for (const obj of objects) {
  if (!obj.apiVersion || !obj.kind) {
    fail(obj, "schema", "object without apiVersion or kind");
    continue;
  }
  if (!obj.metadata?.name) fail(obj, "schema", "object without metadata.name");
  const Model = await modelClass(obj.apiVersion, obj.kind);
  if (!Model) {
    fail(obj, "schema", `no Kubernetes schema for ${obj.apiVersion} ${obj.kind}`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    fail(obj, "schema", String(e.message ?? e).replace(/\s+/g, " "));
  }
}

// ---- invariants --------------------------------------------------------------------------
const SILO = "prh-silo";
const isSilo = (o) =>
  o.kind === "Deployment" && o.spec?.template?.metadata?.labels?.["app.kubernetes.io/name"] === SILO;
const silos = objects.filter(isSilo);
const byKindName = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
const selects = (selector, labels) =>
  !!selector?.matchLabels &&
  Object.keys(selector.matchLabels).length > 0 &&
  Object.entries(selector.matchLabels).every(([k, v]) => labels?.[k] === v) &&
  (selector.matchExpressions ?? []).length === 0;
const looksLikeSecret = (v) =>
  typeof v === "string" &&
  /(AccountKey=|SharedAccessSignature=|password=|DefaultEndpointsProtocol=|redis:\/\/|rediss:\/\/|UseDevelopmentStorage=)/i.test(v);

for (const name of ["prh-silo-cpu", "prh-silo-gpu"])
  if (!silos.some((d) => d.metadata.name === name))
    fail(null, "silo-deployments", `Deployment ${name} (label app.kubernetes.io/name=${SILO}) is missing`);

// A container's environment as the kubelet sees it: envFrom ConfigMaps (resolved in this render,
// kustomize's hash suffixes included), then env, later entries winning.
function environment(obj, container) {
  const env = new Map();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const cm = byKindName("ConfigMap", source.configMapRef.name);
      if (!cm) {
        if (!source.configMapRef.optional)
          fail(obj, "config-exists", `envFrom ConfigMap ${source.configMapRef.name} is not in the render`);
        continue;
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set((source.prefix ?? "") + k, { value: v, from: `ConfigMap/${cm.metadata.name}` });
    }
  }
  for (const e of container.env ?? []) env.set(e.name, { value: e.value, valueFrom: e.valueFrom, from: "env" });
  return env;
}

for (const d of silos) {
  const pod = d.spec?.template?.spec ?? {};
  const containers = pod.containers ?? [];
  const c = containers.find((x) => (x.args ?? x.command ?? []).includes("silo")) ?? containers[0];
  if (!c) {
    fail(d, "container", "no container");
    continue;
  }
  const pool = d.spec?.template?.metadata?.labels?.["prh-cluster/pool"];
  if (!pool) fail(d, "labels", "pod template lacks the pool label prh-cluster/pool");
  if (!selects(d.spec?.selector, d.spec?.template?.metadata?.labels))
    fail(d, "labels", "spec.selector does not match the pod template labels");
  const env = environment(d, c);
  const val = (name) => env.get(name)?.value;

  // Probes on the health endpoints.
  const portsByName = Object.fromEntries((c.ports ?? []).filter((p) => p.name).map((p) => [p.name, p.containerPort]));
  const healthPort = Number(val("PRH_Health__Port") ?? 8080);
  for (const [probe, path] of [["readinessProbe", "/healthz/ready"], ["livenessProbe", "/healthz/live"]]) {
    const get = c[probe]?.httpGet;
    if (!get) {
      fail(d, "probes", `container ${c.name} has no ${probe} (httpGet ${path})`);
      continue;
    }
    if (get.path !== path) fail(d, "probes", `${probe} path is ${get.path}, expected ${path}`);
    const port = typeof get.port === "string" ? portsByName[get.port] : get.port;
    if (port !== healthPort) fail(d, "probes", `${probe} port ${get.port} is not the health port ${healthPort}`);
  }

  // Ports and the env that must agree with them.
  const containerPorts = (c.ports ?? []).map((p) => p.containerPort);
  for (const [variable, port] of [["PRH_Cluster__SiloPort", 11111], ["PRH_Cluster__GatewayPort", 30000], ["PRH_Health__Port", 8080]]) {
    if (!containerPorts.includes(port)) fail(d, "ports", `container ${c.name} does not expose port ${port}`);
    const v = val(variable);
    if (v === undefined) fail(d, "ports", `env ${variable} is not set (expected ${port})`);
    else if (String(v) !== String(port)) fail(d, "ports", `env ${variable}=${v} does not match container port ${port}`);
  }
  if ((c.ports ?? []).some((p) => !p.name)) fail(d, "ports", "every container port must be named");

  // Orleans on Kubernetes (Microsoft.Orleans.Hosting.Kubernetes, PRH_Cluster__Kubernetes): the pod's identity
  // from the downward API, the cluster's ids from the pod's labels, the pod IP advertised; nothing that would
  // name the silo or the cluster otherwise.
  const field = (name) => env.get(name)?.valueFrom?.fieldRef?.fieldPath;
  if (val("PRH_Cluster__Clustering") !== "redis")
    fail(d, "clustering", `PRH_Cluster__Clustering is ${val("PRH_Cluster__Clustering")}, expected redis`);
  if (val("PRH_Cluster__Kubernetes") !== "true")
    fail(d, "kubernetes-hosting", `PRH_Cluster__Kubernetes is ${val("PRH_Cluster__Kubernetes")}, expected true`);
  for (const [name, path] of [["POD_NAME", "metadata.name"], ["POD_NAMESPACE", "metadata.namespace"], ["POD_IP", "status.podIP"]])
    if (field(name) !== path) fail(d, "kubernetes-hosting", `${name} must come from fieldRef ${path}`);
  const podLabels = d.spec?.template?.metadata?.labels ?? {};
  for (const [name, label] of [["ORLEANS_SERVICE_ID", "orleans/serviceId"], ["ORLEANS_CLUSTER_ID", "orleans/clusterId"]]) {
    if (field(name) !== `metadata.labels['${label}']`) fail(d, "kubernetes-hosting", `${name} must come from fieldRef metadata.labels['${label}']`);
    if (!podLabels[label]) fail(d, "kubernetes-hosting", `the pod template lacks the label ${label}`);
  }
  const order = (name) => (c.env ?? []).findIndex((e) => e.name === name);
  if (val("PRH_Cluster__AdvertisedAddress") !== "$(POD_IP)" || !(order("POD_IP") >= 0 && order("POD_IP") < order("PRH_Cluster__AdvertisedAddress")))
    fail(d, "kubernetes-hosting", "PRH_Cluster__AdvertisedAddress must be $(POD_IP), after POD_IP");
  for (const name of ["PRH_Cluster__SiloName", "PRH_Cluster__ClusterId", "PRH_Cluster__ServiceId"])
    if (env.has(name)) fail(d, "kubernetes-hosting", `${name} is set (${env.get(name).from}); Kubernetes hosting takes it from the pod (POD_NAME, orleans/* labels)`);

  // Kubernetes hosting's rights: the pod's service account, bound to a Role over pods.
  const account = pod.serviceAccountName;
  if (!account) fail(d, "rbac", "no serviceAccountName: Kubernetes hosting needs an account bound to a Role over pods");
  else {
    if (!byKindName("ServiceAccount", account)) fail(d, "rbac", `ServiceAccount ${account} is not in the render`);
    if (pod.automountServiceAccountToken === false) fail(d, "rbac", "automountServiceAccountToken is false: the silo cannot reach the Kubernetes API");
    const granted = new Set();
    for (const binding of objects.filter((o) => o.kind === "RoleBinding" && (o.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === account)))
      for (const rule of byKindName(binding.roleRef?.kind, binding.roleRef?.name)?.rules ?? [])
        if ((rule.apiGroups ?? []).includes("") && (rule.resources ?? []).includes("pods")) for (const verb of rule.verbs ?? []) granted.add(verb);
    const needed = ["get", "list", "watch", "patch", ...(val("PRH_Kubernetes__DeleteDefunctSiloPods") === "true" ? ["delete"] : [])];
    const missing = needed.filter((verb) => !granted.has(verb) && !granted.has("*"));
    if (missing.length) fail(d, "rbac", `ServiceAccount ${account} may not ${missing.join(", ")} pods (no RoleBinding to a Role granting it)`);
  }

  // Prometheus' pod annotations, where present, point at /metrics on the health port.
  const annotations = d.spec?.template?.metadata?.annotations ?? {};
  if (annotations["prometheus.io/scrape"] === "true" &&
      (Number(annotations["prometheus.io/port"]) !== healthPort || (annotations["prometheus.io/path"] ?? "/metrics") !== "/metrics"))
    fail(d, "metrics", `prometheus.io annotations (port ${annotations["prometheus.io/port"]}, path ${annotations["prometheus.io/path"]}) are not /metrics on the health port ${healthPort}`);

  // GPU pool vs CPU pool.
  const gpuOf = (r) => r?.["nvidia.com/gpu"];
  const gpu = gpuOf(c.resources?.limits) ?? gpuOf(c.resources?.requests);
  const accelerator = val("PRH_Cluster__Metadata__accelerator");
  const wantsGpu = d.metadata.name.endsWith("-gpu") || pool === "gpu";
  if (wantsGpu) {
    if (!(Number(gpu) >= 1)) fail(d, "gpu", "the GPU pool must set resources.limits[nvidia.com/gpu] >= 1");
    if (accelerator !== "gpu") fail(d, "gpu", "the GPU pool must set PRH_Cluster__Metadata__accelerator=gpu");
    if (!pod.nodeSelector && !pod.affinity?.nodeAffinity) fail(d, "gpu", "the GPU pool needs a nodeSelector or node affinity for GPU nodes");
    if (!(pod.tolerations ?? []).some((t) => (t.key ?? "").includes("nvidia.com/gpu")))
      fail(d, "gpu", "the GPU pool needs a toleration for nvidia.com/gpu");
  } else {
    if (gpu !== undefined) fail(d, "gpu", "the CPU pool must not request nvidia.com/gpu");
    if (accelerator !== undefined) fail(d, "gpu", `the CPU pool must not set PRH_Cluster__Metadata__accelerator (is ${accelerator})`);
  }

  // Resources on every container.
  for (const x of containers)
    for (const kind of ["requests", "limits"])
      for (const r of ["cpu", "memory"])
        if (x.resources?.[kind]?.[r] === undefined) fail(d, "resources", `container ${x.name} has no resources.${kind}.${r}`);

  // Graceful shutdown fits in the grace period.
  const grace = pod.terminationGracePeriodSeconds;
  const shutdown = Number(val("PRH_Cluster__ShutdownTimeoutSeconds"));
  if (val("PRH_Cluster__ShutdownTimeoutSeconds") === undefined || !Number.isFinite(shutdown))
    fail(d, "shutdown", "PRH_Cluster__ShutdownTimeoutSeconds is not set to a number");
  else if (!(typeof grace === "number" && grace > shutdown))
    fail(d, "shutdown", `terminationGracePeriodSeconds (${grace ?? "default 30"}) must exceed PRH_Cluster__ShutdownTimeoutSeconds (${shutdown})`);

  // Connection strings only through secretKeyRef.
  for (const variable of ["PRH_Cluster__RedisConnectionString", "PRH_Store__BlobConnectionString"]) {
    const e = env.get(variable);
    if (!e) {
      if (variable === "PRH_Cluster__RedisConnectionString") fail(d, "secrets", `${variable} is not set`);
      continue;
    }
    if (!e.valueFrom?.secretKeyRef) fail(d, "secrets", `${variable} must come from a secretKeyRef, not ${e.from === "env" ? "a literal value" : e.from}`);
  }
  for (const [name, e] of env) {
    if (e.valueFrom) continue;
    if (/ConnectionString/i.test(name) || looksLikeSecret(e.value))
      fail(d, "secrets", `${name} holds a literal secret (${e.from}); use valueFrom.secretKeyRef`);
  }
}

// The silo pools are one Orleans cluster: the same orleans/* labels on every pod.
for (const label of ["orleans/serviceId", "orleans/clusterId"]) {
  const values = new Set(silos.map((d) => d.spec?.template?.metadata?.labels?.[label]));
  if (values.size > 1) fail(null, "kubernetes-hosting", `the silo Deployments disagree on ${label}: ${[...values].join(", ")}`);
  // A client Job joins that cluster: the gateways refuse a client of another cluster id.
  for (const job of objects.filter((o) => o.kind === "Job")) {
    const mine = job.spec?.template?.metadata?.labels?.[label];
    if (values.size === 1 && mine !== [...values][0])
      fail(job, "client-cluster", `${label} is ${mine ?? "missing"} but the silos' is ${[...values][0]}`);
  }
}

// ConfigMaps never carry connection strings.
for (const cm of objects.filter((o) => o.kind === "ConfigMap"))
  for (const [k, v] of Object.entries(cm.data ?? {}))
    if (/ConnectionString/i.test(k) || looksLikeSecret(v)) fail(cm, "secrets", `key ${k} looks like a connection string; put it in a Secret`);

// Client Service on the gateway port, selecting the silos.
const svc = byKindName("Service", "prh-gateway");
if (!svc) fail(null, "gateway-service", "Service prh-gateway is missing");
else {
  const ports = svc.spec?.ports ?? [];
  const p = ports.find((x) => x.port === 30000);
  if (!p) fail(svc, "gateway-service", "no port 30000");
  else if (!(p.targetPort === 30000 || p.targetPort === "gateway" || p.targetPort === undefined))
    fail(svc, "gateway-service", `port 30000 targets ${p.targetPort}, expected 30000`);
  const sel = svc.spec?.selector ?? {};
  if (Object.keys(sel).length === 0) fail(svc, "gateway-service", "no selector");
  for (const d of silos)
    if (!Object.entries(sel).every(([k, v]) => d.spec?.template?.metadata?.labels?.[k] === v))
      fail(svc, "gateway-service", `selector does not select the pods of Deployment/${d.metadata.name}`);
}

// Disruption budget over all silos.
const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
const pdb = pdbs.find((p) => silos.length > 0 && silos.every((d) => selects(p.spec?.selector, d.spec?.template?.metadata?.labels)));
if (!pdb) fail(null, "pdb", "no PodDisruptionBudget selects the pods of every silo Deployment");
else if (pdb.spec?.maxUnavailable !== 1) fail(pdb, "pdb", `maxUnavailable is ${pdb.spec?.maxUnavailable}, expected 1`);

// Every secretKeyRef that is not optional points at a key of a rendered Secret, if the render has it.
for (const o of objects.filter((x) => x.spec?.template?.spec?.containers))
  for (const c of o.spec.template.spec.containers)
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      const secret = byKindName("Secret", ref.name);
      if (secret && !ref.optional && !(ref.key in { ...(secret.data ?? {}), ...(secret.stringData ?? {}) }))
        fail(o, "secrets", `${e.name} refers to key ${ref.key} missing from Secret/${ref.name}`);
    }

// ---- report ------------------------------------------------------------------------------
const prefix = label ? `${label}: ` : "";
if (errors.length) {
  console.error(`${prefix}INVALID (${errors.length} problem${errors.length === 1 ? "" : "s"})`);
  for (const e of errors) console.error(`  ${e}`);
  process.exit(1);
}
const rows = objects.map((o) => [o.kind, o.metadata.name, o.apiVersion, o.kind === "Deployment" ? String(o.spec?.replicas ?? 1) : ""]);
const header = ["KIND", "NAME", "API VERSION", "REPLICAS"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => "  " + r.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd();
console.log(`${prefix}valid: ${objects.length} objects`);
console.log(line(header));
for (const r of rows) console.log(line(r));
