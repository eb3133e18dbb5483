package dev.petal.service.config;

import dev.petal.common.storage.S3Settings;
import io.smallrye.config.ConfigMapping;
import java.net.URI;
import java.util.Optional;

/**
 * The {@code petal.s3.*} settings every service reads (object storage for checkpoints and claim-checks). Their
 * defaults live in this module's {@code META-INF/microprofile-config.properties}, once for all three services.
 */
@ConfigMapping(prefix = "petal.s3")
public interface S3Config {
    /** The S3 endpoint (MinIO: {@code http://minio:9000}); empty for AWS's endpoint of the region. */
    Optional<URI> endpoint();

    String region();

    /** The bucket that holds checkpoints and claim-checked images. */
    String bucket();

    /** Path-style addressing ({@code http://host/bucket/key}), as MinIO and S3Proxy want. */
    boolean pathStyle();

    /** Static credentials; both empty: the AWS default credentials chain. */
    Optional<String> accessKey();

    Optional<String> secretKey();

    default S3Settings settings() {
        return new S3Settings(endpoint().orElse(null), region(), bucket(), pathStyle(), accessKey().orElse(null),
                secretKey().orElse(null));
    }
}
