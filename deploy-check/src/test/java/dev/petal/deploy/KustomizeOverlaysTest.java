package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Renders every overlay under deploy/overlays and checks what would otherwise only fail on a
 * cluster: unknown fields and wrong types (via the fabric8 model), missing probes, a replica
 * ceiling above the partitions of petal.images, and environment variables no service reads.
 */
class KustomizeOverlaysTest {

    @Test
    void everyOverlayRendersToValidResources() throws Exception {
        List<Path> overlays = RenderedManifests.overlays();
        assertTrue(overlays.size() >= 3, "expected local, production and gpu overlays, found " + overlays);
        List<String> problems = new ArrayList<>();
        int partitions = ResourceRules.imagesPartitions(RenderedManifests.repositoryRoot());
        for (Path overlay : overlays) {
            String where = "deploy/overlays/" + overlay.getFileName();
            List<JsonNode> docs = RenderedManifests.render(overlay);
            assertFalse(docs.isEmpty(), where + " renders nothing");
            int deployments = 0;
            for (JsonNode doc : docs) {
                String name = where + " " + doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText();
                HasMetadata resource = ResourceRules.parse(doc, name, problems);
                if (resource instanceof Deployment deployment) {
                    deployments++;
                    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
                    ResourceRules.checkProbes(pod, name, problems);
                    ResourceRules.checkResources(pod, name, problems);
                    ResourceRules.checkEnv(pod, name, problems);
                } else if (resource instanceof Job job) {
                    ResourceRules.checkResources(job.getSpec().getTemplate().getSpec(), name, problems);
                    ResourceRules.checkEnv(job.getSpec().getTemplate().getSpec(), name, problems);
                } else if (resource instanceof HorizontalPodAutoscaler hpa) {
                    ResourceRules.checkMaxReplicas(hpa.getSpec().getMaxReplicas(), partitions, name, problems);
                } else if ("ScaledObject".equals(doc.path("kind").asText())) {
                    ResourceRules.checkScaledObject(doc, partitions, name, problems);
                }
            }
            assertEquals(3, deployments, where + ": ingest, inference and console Deployments");
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theRulesCatchWhatTheyShould() throws Exception {
        List<String> problems = new ArrayList<>();
        JsonNode unknownField = RenderedManifests.YAML.readTree("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  replicass: 2
                  template: {spec: {containers: [{name: c, image: petal/inference-service:1}]}}
                """);
        Deployment deployment = (Deployment) ResourceRules.parse(unknownField, "bad", problems);
        assertTrue(problems.stream().anyMatch(p -> p.contains("replicass")), problems.toString());

        problems.clear();
        JsonNode wrongType = RenderedManifests.YAML.readTree("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec: {replicas: two}
                """);
        ResourceRules.parse(wrongType, "bad", problems);
        assertTrue(problems.stream().anyMatch(p -> p.contains("does not parse")), problems.toString());

        problems.clear();
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        ResourceRules.checkProbes(pod, "bad", problems);
        assertTrue(problems.stream().anyMatch(p -> p.contains("readinessProbe")), problems.toString());

        problems.clear();
        Container container = pod.getContainers().get(0);
        container.setEnv(List.of(new EnvVar("PETAL_INFERENCE_MAX_BATCHH", "32", null)));
        ResourceRules.checkEnv(pod, "bad", problems);
        assertTrue(problems.stream().anyMatch(p -> p.contains("PETAL_INFERENCE_MAX_BATCHH")), problems.toString());

        problems.clear();
        ResourceRules.checkMaxReplicas(12, 6, "bad", problems);
        assertEquals(1, problems.size());
    }
}
