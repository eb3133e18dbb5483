package dev.petal.e2e.containers;

/** The images the deployment runs (docker-compose.yml), so the tests run against what is deployed. */
final class ContainerImages {
    static final String KAFKA = "apache/kafka:4.1.2";
    static final String MINIO = "minio/minio:RELEASE.2025-04-22T22-12-26Z";

    private ContainerImages() {}
}
