package dev.petal.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.math.BigDecimal;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Issue #26's rules for a workload's pod, its NetworkPolicies and its PodDisruptionBudget, each adding a readable
 * problem line. Pod Security "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/)
 * as far as Petal's manifests touch it, plus what the services need with a read-only root: /tmp and the DJL
 * cache on emptyDir volumes, and ephemeral storage requested for them.
 */
final class SecurityRules {
    static final Quantity LIBTORCH_EPHEMERAL_STORAGE = new Quantity("1Gi");

    private SecurityRules() {}

    static void checkPodSecurity(PodSpec pod, String name, List<String> problems) {
        PodSecurityContext psc = Optional.ofNullable(pod.getSecurityContext()).orElse(new PodSecurityContext());
        if (!Boolean.TRUE.equals(psc.getRunAsNonRoot())) {
            problems.add(name + ": pod securityContext.runAsNonRoot must be true");
        }
        if (psc.getRunAsUser() == null || psc.getRunAsUser() == 0) {
            problems.add(name + ": pod securityContext.runAsUser must be a non-zero UID (the image's 10001)");
        }
        boolean podSeccomp = psc.getSeccompProfile() != null && "RuntimeDefault".equals(psc.getSeccompProfile().getType());
        if (Boolean.TRUE.equals(pod.getHostNetwork()) || Boolean.TRUE.equals(pod.getHostPID()) || Boolean.TRUE.equals(pod.getHostIPC())) {
            problems.add(name + ": no host network, PID or IPC namespaces");
        }
        for (Volume v : list(pod.getVolumes())) {
            if (v.getHostPath() != null) {
                problems.add(name + ": volume " + v.getName() + " is a hostPath");
            }
        }
        for (Container c : all(pod)) {
            String where = name + " container " + c.getName();
            SecurityContext sc = Optional.ofNullable(c.getSecurityContext()).orElse(new SecurityContext());
            if (!Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
                problems.add(where + ": securityContext.allowPrivilegeEscalation must be false");
            }
            if (!Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
                problems.add(where + ": securityContext.readOnlyRootFilesystem must be true");
            }
            if (sc.getCapabilities() == null || !list(sc.getCapabilities().getDrop()).contains("ALL")) {
                problems.add(where + ": securityContext.capabilities.drop must contain ALL");
            } else if (!list(sc.getCapabilities().getAdd()).isEmpty()) {
                problems.add(where + ": adds capabilities " + sc.getCapabilities().getAdd());
            }
            if (Boolean.TRUE.equals(sc.getPrivileged())) {
                problems.add(where + ": privileged");
            }
            if (Long.valueOf(0).equals(sc.getRunAsUser()) || Boolean.FALSE.equals(sc.getRunAsNonRoot())) {
                problems.add(where + ": runs as root");
            }
            boolean seccomp = podSeccomp || (sc.getSeccompProfile() != null && "RuntimeDefault".equals(sc.getSeccompProfile().getType()));
            if (!seccomp) {
                problems.add(where + ": seccompProfile RuntimeDefault (pod or container)");
            }
        }
    }

    /**
     * With a read-only root, everything a service writes needs a volume: /tmp (java.io.tmpdir: checkpoint
     * weights while they load, uploads) and DJL_CACHE_DIR (libtorch's unpack), both emptyDir; ephemeral
     * storage requested for them, at least 1Gi where libtorch unpacks.
     */
    static void checkWritablePaths(PodSpec pod, String name, boolean libtorch, List<String> problems) {
        checkWritablePaths(pod, name, libtorch, true, problems);
    }

    /** The same; {@code djl} false for a service without DJL on its class path (the console), which needs no DJL_CACHE_DIR. */
    static void checkWritablePaths(PodSpec pod, String name, boolean libtorch, boolean djl, List<String> problems) {
        Set<String> emptyDirs = list(pod.getVolumes()).stream().filter(v -> v.getEmptyDir() != null)
                .map(Volume::getName).collect(Collectors.toSet());
        for (Container c : pod.getContainers()) {
            String where = name + " container " + c.getName();
            Map<String, String> mounts = list(c.getVolumeMounts()).stream()
                    .collect(Collectors.toMap(VolumeMount::getMountPath, VolumeMount::getName, (a, b) -> a));
            if (!emptyDirs.contains(mounts.get("/tmp"))) {
                problems.add(where + ": /tmp must be an emptyDir volume (the root filesystem is read-only)");
            }
            String djlCache = list(c.getEnv()).stream().filter(e -> "DJL_CACHE_DIR".equals(e.getName()))
                    .map(EnvVar::getValue).filter(Objects::nonNull).findFirst().orElse(null);
            if (djlCache == null && djl) {
                problems.add(where + ": DJL_CACHE_DIR must be set to its mounted volume");
            } else if (djlCache == null) {
                // no DJL, no cache
            } else if (!emptyDirs.contains(mounts.get(djlCache))) {
                problems.add(where + ": DJL_CACHE_DIR " + djlCache + " must be the mount path of an emptyDir volume");
            }
            Quantity requested = c.getResources() == null || c.getResources().getRequests() == null ? null
                    : c.getResources().getRequests().get("ephemeral-storage");
            if (requested == null) {
                problems.add(where + ": resources.requests.ephemeral-storage is missing");
            } else if (libtorch && bytes(requested).compareTo(bytes(LIBTORCH_EPHEMERAL_STORAGE)) < 0) {
                problems.add(where + ": requests " + requested + " of ephemeral storage; libtorch alone unpacks about 430 MB: ask for "
                        + LIBTORCH_EPHEMERAL_STORAGE + " or more");
            }
        }
    }

    /** Object-storage credentials only from a Secret, one per service; never a literal value. */
    static void checkStorageCredentials(PodSpec pod, String name, String service, List<String> problems) {
        for (Container c : pod.getContainers()) {
            for (EnvVar e : list(c.getEnv())) {
                if (e.getName().equals("PETAL_S3_ACCESS_KEY") || e.getName().equals("PETAL_S3_SECRET_KEY")) {
                    if (e.getValue() != null || e.getValueFrom() == null || e.getValueFrom().getSecretKeyRef() == null) {
                        problems.add(name + ": " + e.getName() + " must come from a Secret (secretKeyRef)");
                    } else if (!("petal-s3-" + service).equals(e.getValueFrom().getSecretKeyRef().getName())) {
                        problems.add(name + ": " + e.getName() + " must come from the service's own Secret petal-s3-" + service
                                + ", not " + e.getValueFrom().getSecretKeyRef().getName());
                    }
                }
            }
        }
    }

    /** True when the policy applies to pods labelled {@code labels}: its matchLabels are a subset of them. */
    static boolean selects(NetworkPolicy policy, Map<String, String> labels) {
        LabelSelector selector = policy.getSpec().getPodSelector();
        if (selector == null) {
            return true;
        }
        if (!list(selector.getMatchExpressions()).isEmpty()) {
            throw new AssertionError(policy.getMetadata().getName() + ": matchExpressions are not checked here; use matchLabels");
        }
        Map<String, String> match = selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels();
        return labels.entrySet().containsAll(match.entrySet());
    }

    static boolean isDefaultDeny(NetworkPolicy policy) {
        LabelSelector selector = policy.getSpec().getPodSelector();
        boolean everyPod = selector == null || ((selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty())
                && list(selector.getMatchExpressions()).isEmpty());
        return everyPod && Set.copyOf(list(policy.getSpec().getPolicyTypes())).equals(Set.of("Ingress", "Egress"))
                && list(policy.getSpec().getIngress()).isEmpty() && list(policy.getSpec().getEgress()).isEmpty();
    }

    /**
     * A workload is covered when a policy of its own (a non-empty selector) selects it for ingress and egress,
     * lets in only its container ports, and lets out DNS, Kafka and object storage and nothing to everywhere.
     */
    static void checkNetworkPolicies(PodSpec pod, Map<String, String> labels, String name, Collection<NetworkPolicy> policies,
                                     List<String> problems) {
        List<NetworkPolicy> own = policies.stream().filter(p -> !isDefaultDeny(p) && selects(p, labels)
                && p.getSpec().getPodSelector() != null && p.getSpec().getPodSelector().getMatchLabels() != null
                && !p.getSpec().getPodSelector().getMatchLabels().isEmpty()).toList();
        if (own.isEmpty()) {
            problems.add(name + ": no NetworkPolicy selects its pods " + labels);
            return;
        }
        Set<Integer> containerPorts = pod.getContainers().stream().flatMap(c -> list(c.getPorts()).stream())
                .map(p -> p.getContainerPort()).collect(Collectors.toSet());
        Set<Integer> egressPorts = new java.util.TreeSet<>();
        for (NetworkPolicy p : own) {
            String where = name + " NetworkPolicy " + p.getMetadata().getName();
            if (!Set.copyOf(list(p.getSpec().getPolicyTypes())).equals(Set.of("Ingress", "Egress"))) {
                problems.add(where + ": policyTypes must be [Ingress, Egress]");
            }
            for (NetworkPolicyIngressRule rule : list(p.getSpec().getIngress())) {
                if (list(rule.getPorts()).isEmpty()) {
                    problems.add(where + ": an ingress rule without ports lets in every port");
                }
                for (NetworkPolicyPort port : list(rule.getPorts())) {
                    Integer number = port.getPort() == null ? null : port.getPort().getIntVal();
                    if (number == null || !containerPorts.contains(number)) {
                        problems.add(where + ": lets in port " + (port.getPort() == null ? "any" : port.getPort().getValue())
                                + ", which no container declares " + containerPorts);
                    }
                }
            }
            for (NetworkPolicyEgressRule rule : list(p.getSpec().getEgress())) {
                if (list(rule.getPorts()).isEmpty()) {
                    problems.add(where + ": an egress rule without ports lets out every port");
                }
                for (NetworkPolicyPeer peer : list(rule.getTo())) {
                    if (peer.getIpBlock() != null && "0.0.0.0/0".equals(peer.getIpBlock().getCidr())) {
                        problems.add(where + ": egress to 0.0.0.0/0");
                    }
                }
                list(rule.getPorts()).forEach(port -> egressPorts.add(port.getPort() == null ? -1 : port.getPort().getIntVal()));
            }
        }
        for (int needed : List.of(53, 9092, 9093, 9000)) {
            if (!egressPorts.contains(needed)) {
                problems.add(name + ": its NetworkPolicies let out no traffic to port " + needed
                        + " (DNS 53, Kafka 9092/9093, object storage 9000)");
            }
        }
    }

    /** A budget that selects the Deployment and never blocks draining its last replica: maxUnavailable >= 1, no minAvailable. */
    static void checkDisruptionBudget(Map<String, String> labels, String name, Collection<PodDisruptionBudget> budgets,
                                      List<String> problems) {
        List<PodDisruptionBudget> mine = budgets.stream().filter(b -> b.getSpec().getSelector() != null
                && b.getSpec().getSelector().getMatchLabels() != null
                && labels.entrySet().containsAll(b.getSpec().getSelector().getMatchLabels().entrySet())).toList();
        if (mine.size() != 1) {
            problems.add(name + ": needs exactly one PodDisruptionBudget, has " + mine.size());
            return;
        }
        PodDisruptionBudget pdb = mine.get(0);
        if (pdb.getSpec().getMinAvailable() != null) {
            problems.add(name + ": PodDisruptionBudget " + pdb.getMetadata().getName() + " sets minAvailable, which blocks draining a"
                    + " single replica; use maxUnavailable: 1");
        }
        var max = pdb.getSpec().getMaxUnavailable();
        if (max == null || (max.getIntVal() != null && max.getIntVal() < 1) || "0%".equals(max.getStrVal())) {
            problems.add(name + ": PodDisruptionBudget " + pdb.getMetadata().getName() + " needs maxUnavailable of at least 1");
        }
    }

    private static BigDecimal bytes(Quantity q) {
        return Quantity.getAmountInBytes(q);
    }

    private static List<Container> all(PodSpec pod) {
        List<Container> containers = new java.util.ArrayList<>(pod.getContainers());
        containers.addAll(list(pod.getInitContainers()));
        return containers;
    }

    static <T> List<T> list(List<T> items) {
        return items == null ? List.of() : items;
    }
}
