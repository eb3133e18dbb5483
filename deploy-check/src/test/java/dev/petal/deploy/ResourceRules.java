package dev.petal.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The checks, each adding a readable problem line instead of failing on the first one. */
final class ResourceRules {
    private static final Map<String, Class<? extends HasMetadata>> TYPED = Map.of(
            "Deployment", Deployment.class,
            "Service", Service.class,
            "ConfigMap", ConfigMap.class,
            "Namespace", Namespace.class,
            "Job", Job.class,
            "PodDisruptionBudget", PodDisruptionBudget.class,
            "HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "ServiceAccount", ServiceAccount.class,
            "NetworkPolicy", NetworkPolicy.class,
            "StatefulSet", StatefulSet.class);
    /** Custom resources without a fabric8 model here; checked by hand (this class, KafkaAclTest, TopicSettingsTest). */
    private static final Set<String> CUSTOM = Set.of("ScaledObject", "TriggerAuthentication", "KafkaTopic", "KafkaUser");
    /** Variables read by the JVM, glibc or DJL rather than by Quarkus configuration. */
    private static final Set<String> RUNTIME_ENV = Set.of(
            "JAVA_OPTS", "MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_",
            "DJL_OFFLINE", "DJL_CACHE_DIR", "PYTORCH_FLAVOR", "CUDA_CACHE_PATH");
    /** Every setting a Kafka producer, consumer or admin client takes: KAFKA_SASL_MECHANISM must name one. */
    private static final Set<String> KAFKA_CLIENT_SETTINGS = kafkaClientSettings();
    private static final Pattern SERVICE_IMAGE = Pattern.compile("petal/(\\w+)-service");

    private ResourceRules() {}

    /** Parses a typed resource; unknown fields and wrong types become problems. */
    static HasMetadata parse(JsonNode doc, String name, List<String> problems) {
        String kind = doc.path("kind").asText();
        if (CUSTOM.contains(kind)) {
            return null;
        }
        Class<? extends HasMetadata> type = TYPED.get(kind);
        if (type == null) {
            problems.add(name + ": kind " + kind + " is not one this check knows; add it to ResourceRules");
            return null;
        }
        HasMetadata resource;
        try {
            resource = Serialization.unmarshal(RenderedManifests.YAML.writeValueAsString(doc), type);
        } catch (RuntimeException | IOException e) {
            problems.add(name + ": does not parse as " + type.getSimpleName() + ": " + e.getMessage());
            return null;
        }
        unknownFields(resource, name, problems);
        return resource;
    }

    /** fabric8 models keep unknown fields in additionalProperties instead of failing: look there. */
    private static void unknownFields(Object node, String path, List<String> problems) {
        if (node == null) {
            return;
        }
        if (node instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknownFields(item, path + "[" + i++ + "]", problems);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                unknownFields(e.getValue(), path + "." + e.getKey(), problems);
            }
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    problems.add(path + ": unknown field(s) " + extra.keySet());
                }
            } else {
                unknownFields(value, path + "." + getter.getName().substring(3), problems);
            }
        }
    }

    /** The management interface's port: health and metrics, never the API (issue #26). */
    static final int MANAGEMENT_PORT = 9000;

    /** Readiness and liveness (and startup, when there is one) GET health on the management port. */
    static void checkProbes(PodSpec pod, String name, List<String> problems) {
        for (Container c : pod.getContainers()) {
            checkProbe(c.getReadinessProbe(), "readinessProbe", "/q/health/ready", name, c, problems);
            checkProbe(c.getLivenessProbe(), "livenessProbe", "/q/health/live", name, c, problems);
            if (c.getStartupProbe() != null) {
                checkProbe(c.getStartupProbe(), "startupProbe", "/q/health/started", name, c, problems);
            }
        }
    }

    private static void checkProbe(Probe probe, String what, String path, String name, Container c, List<String> problems) {
        if (probe == null) {
            problems.add(name + " container " + c.getName() + ": no " + what);
        } else if (probe.getHttpGet() == null || !path.equals(probe.getHttpGet().getPath())) {
            problems.add(name + " container " + c.getName() + ": " + what + " must GET " + path);
        } else if (containerPort(c, probe.getHttpGet().getPort()) != MANAGEMENT_PORT) {
            problems.add(name + " container " + c.getName() + ": " + what + " must use the management port "
                    + MANAGEMENT_PORT + ", uses " + probe.getHttpGet().getPort().getValue());
        }
    }

    /** The number a probe's port (a number, or the name of one of the container's ports) stands for; -1 if none. */
    static int containerPort(Container c, io.fabric8.kubernetes.api.model.IntOrString port) {
        if (port == null) {
            return -1;
        }
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return c.getPorts() == null ? -1 : c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName()))
                .map(p -> p.getContainerPort()).findFirst().orElse(-1);
    }

    static void checkResources(PodSpec pod, String name, List<String> problems) {
        for (Container c : pod.getContainers()) {
            if (c.getResources() == null || c.getResources().getRequests() == null || c.getResources().getLimits() == null
                    || !c.getResources().getLimits().containsKey("memory")) {
                problems.add(name + " container " + c.getName() + ": needs resource requests and a memory limit");
            }
        }
    }

    static void checkMaxReplicas(Integer max, int partitions, String name, List<String> problems) {
        if (max == null || max > partitions) {
            problems.add(name + ": max replicas " + max + " is above the " + partitions
                    + " partitions of petal.images; extra replicas would get no partition (add partitions first)");
        }
    }

    static void checkScaledObject(JsonNode doc, int partitions, String name, List<String> problems) {
        JsonNode spec = doc.path("spec");
        if (!spec.path("maxReplicaCount").isInt()) {
            problems.add(name + ": spec.maxReplicaCount must be an integer");
        } else {
            checkMaxReplicas(spec.path("maxReplicaCount").asInt(), partitions, name, problems);
        }
        boolean lagTrigger = false;
        for (JsonNode trigger : spec.path("triggers")) {
            lagTrigger |= "kafka".equals(trigger.path("type").asText())
                    && "petal.images".equals(trigger.path("metadata").path("topic").asText());
        }
        if (!lagTrigger) {
            problems.add(name + ": needs a kafka trigger on the lag of petal.images");
        }
    }

    /**
     * Every variable must map (Quarkus' environment rule) to a key the service's application.properties, or
     * service-common's defaults (petal.s3.*, petal.image.*), declare.
     */
    static void checkEnv(PodSpec pod, String name, List<String> problems) {
        for (Container c : pod.getContainers()) {
            Matcher m = SERVICE_IMAGE.matcher(c.getImage() == null ? "" : c.getImage());
            if (!m.find()) {
                problems.add(name + " container " + c.getName() + ": image " + c.getImage() + " is not a Petal service");
                continue;
            }
            Set<String> known = environmentNames(m.group(1) + "-service");
            for (EnvVar env : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
                if (env.getName().startsWith("KAFKA_") && !known.contains(env.getName())) {
                    // Passed to every Kafka client (Quarkus's kafka.* configuration): KAFKA_SASL_MECHANISM is sasl.mechanism.
                    String setting = env.getName().substring(6).toLowerCase(java.util.Locale.ROOT).replace('_', '.');
                    if (!KAFKA_CLIENT_SETTINGS.contains(setting)) {
                        problems.add(name + " container " + c.getName() + ": " + env.getName() + " stands for the Kafka client setting "
                                + setting + ", which Kafka's clients do not have (misspelt?)");
                    }
                } else if (!known.contains(env.getName()) && !RUNTIME_ENV.contains(env.getName())) {
                    problems.add(name + " container " + c.getName() + ": " + env.getName()
                            + " is not a configuration key of " + m.group(1) + "-service (misspelt or dead)");
                }
            }
        }
    }

    /**
     * Keys of a service's application.properties and of service-common's defaults (profiles stripped), as environment
     * variable names.
     */
    static Set<String> environmentNames(String module) {
        Path root = RenderedManifests.repositoryRoot();
        Properties props = new Properties();
        for (Path file : List.of(root.resolve(module).resolve("src/main/resources/application.properties"),
                root.resolve("service-common/src/main/resources/META-INF/microprofile-config.properties"))) {
            try (InputStream in = Files.newInputStream(file)) {
                props.load(in);
            } catch (IOException e) {
                throw new AssertionError("cannot read " + file, e);
            }
        }
        Set<String> names = new HashSet<>();
        for (String key : props.stringPropertyNames()) {
            String bare = key.startsWith("%") ? key.substring(key.indexOf('.') + 1) : key;
            names.add(bare.replace("\"", "").replaceAll("[^A-Za-z0-9]", "_").toUpperCase());
        }
        return names;
    }

    private static Set<String> kafkaClientSettings() {
        Set<String> names = new HashSet<>(org.apache.kafka.clients.producer.ProducerConfig.configNames());
        names.addAll(org.apache.kafka.clients.consumer.ConsumerConfig.configNames());
        names.addAll(org.apache.kafka.clients.admin.AdminClientConfig.configNames());
        return Set.copyOf(names);
    }

    /** Partitions of petal.images as the Strimzi topic declares them. */
    static int imagesPartitions(Path root) throws IOException {
        for (Path overlay : List.of(root.resolve("deploy/strimzi"))) {
            try {
                for (JsonNode doc : RenderedManifests.render(overlay)) {
                    if ("petal.images".equals(doc.path("spec").path("topicName").asText())) {
                        return doc.path("spec").path("partitions").asInt();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        throw new AssertionError("deploy/strimzi declares no petal.images topic");
    }
}
