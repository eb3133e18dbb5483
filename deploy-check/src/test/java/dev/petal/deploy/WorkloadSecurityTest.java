package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue #26 for every workload (Deployment, Job, StatefulSet) of every overlay: Pod Security "restricted",
 * writable emptyDir volumes for /tmp and the DJL cache with ephemeral storage requested, probes and metrics
 * on the management port, object-storage credentials from per-service Secrets, a NetworkPolicy of its own
 * beside the namespace's default deny, and a disruption budget that never blocks a drain.
 */
class WorkloadSecurityTest {
    private static final Pattern SERVICE_IMAGE = Pattern.compile("petal/(\\w+)-service");

    @Test
    void everyWorkloadInEveryOverlayIsLockedDown() throws Exception {
        List<String> problems = new ArrayList<>();
        for (Path overlay : RenderedManifests.overlays()) {
            String where = "deploy/overlays/" + overlay.getFileName();
            Rendered r = Rendered.of(where, RenderedManifests.render(overlay), problems);
            assertFalse(r.workloads.isEmpty(), where + " has no workloads");
            if (r.policies.stream().noneMatch(SecurityRules::isDefaultDeny)) {
                problems.add(where + ": no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)");
            }
            r.workloads.forEach((name, workload) -> {
                PodSpec pod = workload.template().getSpec();
                Map<String, String> labels = workload.template().getMetadata().getLabels();
                String service = serviceOf(pod);
                SecurityRules.checkPodSecurity(pod, name, problems);
                SecurityRules.checkWritablePaths(pod, name, "trainer".equals(service) || "inference".equals(service),
                        !"console".equals(service), problems);
                SecurityRules.checkStorageCredentials(pod, name, service, problems);
                SecurityRules.checkNetworkPolicies(pod, labels, name, r.policies, problems);
                checkMetricsAnnotations(workload.template(), name, problems);
                if (workload.longRunning()) {
                    ResourceRules.checkProbes(pod, name, problems);
                    SecurityRules.checkDisruptionBudget(labels, name, r.budgets, problems);
                }
            });
            for (Service s : r.services) {
                s.getSpec().getPorts().forEach(port -> {
                    String target = port.getTargetPort() == null ? "" : String.valueOf(port.getTargetPort().getValue());
                    if (target.equals("management") || target.equals(String.valueOf(ResourceRules.MANAGEMENT_PORT))) {
                        problems.add(where + " Service " + s.getMetadata().getName() + ": exposes the management port; it carries health and metrics, not the API");
                    }
                });
            }
            for (Namespace ns : r.namespaces) {
                Map<String, String> nsLabels = ns.getMetadata().getLabels() == null ? Map.of() : ns.getMetadata().getLabels();
                if (!"restricted".equals(nsLabels.get("pod-security.kubernetes.io/enforce"))) {
                    problems.add(where + " Namespace " + ns.getMetadata().getName() + ": label pod-security.kubernetes.io/enforce: restricted");
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theLocalOverlayDefinesItsNamespaceWithPodSecurity() throws Exception {
        List<String> problems = new ArrayList<>();
        Rendered r = Rendered.of("local", RenderedManifests.render(RenderedManifests.repositoryRoot().resolve("deploy/overlays/local")), problems);
        assertEquals(1, r.namespaces.size(), "deploy/overlays/local defines the namespace petal");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theRulesCatchWhatTheyShould() throws Exception {
        JsonNode bad = RenderedManifests.YAML.readTree("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  selector: {matchLabels: {app.kubernetes.io/name: x}}
                  template:
                    metadata: {labels: {app.kubernetes.io/name: x}}
                    spec:
                      securityContext: {runAsNonRoot: true, runAsUser: 0}
                      containers:
                        - name: c
                          image: petal/inference-service:1
                          ports: [{name: http, containerPort: 8080}]
                          securityContext: {allowPrivilegeEscalation: true, capabilities: {drop: [NET_RAW]}}
                          env:
                            - {name: DJL_CACHE_DIR, value: /cache}
                            - {name: PETAL_S3_SECRET_KEY, value: plain-text}
                          readinessProbe: {httpGet: {path: /q/health/ready, port: http}}
                          livenessProbe: {httpGet: {path: /q/health/live, port: http}}
                          resources: {requests: {ephemeral-storage: 100Mi}}
                          volumeMounts: [{name: cache, mountPath: /cache}]
                      volumes: [{name: cache, hostPath: {path: /var/cache}}]
                """);
        List<String> problems = new ArrayList<>();
        Deployment d = (Deployment) ResourceRules.parse(bad, "bad", problems);
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        SecurityRules.checkPodSecurity(pod, "bad", problems);
        SecurityRules.checkWritablePaths(pod, "bad", true, problems);
        SecurityRules.checkStorageCredentials(pod, "bad", "inference", problems);
        ResourceRules.checkProbes(pod, "bad", problems);
        SecurityRules.checkNetworkPolicies(pod, Map.of("app.kubernetes.io/name", "x"), "bad", List.of(), problems);
        SecurityRules.checkDisruptionBudget(Map.of("app.kubernetes.io/name", "x"), "bad", List.of(budget("minAvailable: 1")), problems);
        String all = String.join("\n", problems);
        for (String expected : List.of("runAsUser must be a non-zero", "seccompProfile", "allowPrivilegeEscalation",
                "readOnlyRootFilesystem", "capabilities.drop", "hostPath", "/tmp must be an emptyDir",
                "DJL_CACHE_DIR /cache must be the mount path of an emptyDir", "100Mi of ephemeral storage",
                "PETAL_S3_SECRET_KEY must come from a Secret", "readinessProbe must use the management port",
                "no NetworkPolicy selects", "sets minAvailable")) {
            assertTrue(all.contains(expected), "no problem says '" + expected + "':\n" + all);
        }

        problems.clear();
        NetworkPolicy open = (NetworkPolicy) ResourceRules.parse(RenderedManifests.YAML.readTree("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: open}
                spec:
                  podSelector: {matchLabels: {app.kubernetes.io/name: x}}
                  policyTypes: [Ingress]
                  ingress: [{}]
                  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]
                """), "open", problems);
        SecurityRules.checkNetworkPolicies(pod, Map.of("app.kubernetes.io/name", "x"), "bad", List.of(open), problems);
        all = String.join("\n", problems);
        for (String expected : List.of("policyTypes must be [Ingress, Egress]", "ingress rule without ports",
                "egress to 0.0.0.0/0", "no traffic to port 53")) {
            assertTrue(all.contains(expected), "no problem says '" + expected + "':\n" + all);
        }
        assertFalse(SecurityRules.isDefaultDeny(open));
    }

    private static PodDisruptionBudget budget(String spec) throws Exception {
        return (PodDisruptionBudget) ResourceRules.parse(RenderedManifests.YAML.readTree("""
                apiVersion: policy/v1
                kind: PodDisruptionBudget
                metadata: {name: b}
                spec: {%s, selector: {matchLabels: {app.kubernetes.io/name: x}}}
                """.formatted(spec)), "budget", new ArrayList<>());
    }

    private static String serviceOf(PodSpec pod) {
        Matcher m = SERVICE_IMAGE.matcher(pod.getContainers().get(0).getImage());
        return m.find() ? m.group(1) : "unknown";
    }

    private static void checkMetricsAnnotations(PodTemplateSpec template, String name, List<String> problems) {
        Map<String, String> annotations = template.getMetadata().getAnnotations();
        if (annotations != null && "true".equals(annotations.get("prometheus.io/scrape"))) {
            if (!String.valueOf(ResourceRules.MANAGEMENT_PORT).equals(annotations.get("prometheus.io/port"))
                    || !"/q/metrics".equals(annotations.get("prometheus.io/path"))) {
                problems.add(name + ": Prometheus must scrape /q/metrics on the management port " + ResourceRules.MANAGEMENT_PORT);
            }
        }
    }

    record Workload(PodTemplateSpec template, boolean longRunning) {}

    /** The resources of one rendered overlay that these checks need, parsed with the fabric8 model. */
    record Rendered(Map<String, Workload> workloads, List<NetworkPolicy> policies, List<PodDisruptionBudget> budgets,
                    List<Service> services, List<Namespace> namespaces) {
        static Rendered of(String where, List<JsonNode> docs, List<String> problems) {
            Rendered r = new Rendered(new LinkedHashMap<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            for (JsonNode doc : docs) {
                String name = where + " " + doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText();
                HasMetadata resource = ResourceRules.parse(doc, name, problems);
                if (resource instanceof Deployment d) {
                    r.workloads.put(name, new Workload(d.getSpec().getTemplate(), true));
                } else if (resource instanceof StatefulSet s) {
                    r.workloads.put(name, new Workload(s.getSpec().getTemplate(), true));
                } else if (resource instanceof Job j) {
                    r.workloads.put(name, new Workload(j.getSpec().getTemplate(), false));
                } else if (resource instanceof NetworkPolicy p) {
                    r.policies.add(p);
                } else if (resource instanceof PodDisruptionBudget b) {
                    r.budgets.add(b);
                } else if (resource instanceof Service s) {
                    r.services.add(s);
                } else if (resource instanceof Namespace n) {
                    r.namespaces.add(n);
                }
            }
            return r;
        }
    }
}
