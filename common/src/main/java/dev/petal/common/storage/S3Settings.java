package dev.petal.common.storage;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Where the object store is and how to sign requests to it.
 *
 * <p>The same configuration keys serve Quarkus services ({@code application.properties},
 * or environment variables such as {@code PETAL_S3_ENDPOINT}) and plain mains
 * ({@code -Dpetal.s3.endpoint=...}): see {@link #fromConfig(Function)}.
 *
 * @param endpoint  the S3 endpoint, e.g. {@code http://localhost:9000}; {@code null} means AWS's default for the region
 * @param region    the signing region
 * @param bucket    the bucket that holds everything Petal stores
 * @param pathStyle {@code true} for {@code http://host/bucket/key} addressing (S3Proxy, MinIO)
 * @param accessKey the access key, or {@code null} to use the default AWS credentials chain
 * @param secretKey the secret key, or {@code null} to use the default AWS credentials chain
 */
public record S3Settings(URI endpoint, String region, String bucket, boolean pathStyle,
                         String accessKey, String secretKey) {

    public static final String ENDPOINT = "petal.s3.endpoint";
    public static final String REGION = "petal.s3.region";
    public static final String BUCKET = "petal.s3.bucket";
    public static final String PATH_STYLE = "petal.s3.path-style";
    public static final String ACCESS_KEY = "petal.s3.access-key";
    public static final String SECRET_KEY = "petal.s3.secret-key";

    public static final String DEFAULT_REGION = "us-east-1";
    public static final String DEFAULT_BUCKET = "petal";

    public S3Settings {
        region = blankToNull(region) == null ? DEFAULT_REGION : region;
        bucket = blankToNull(bucket) == null ? DEFAULT_BUCKET : bucket;
        accessKey = blankToNull(accessKey);
        secretKey = blankToNull(secretKey);
        if ((accessKey == null) != (secretKey == null)) {
            throw new IllegalArgumentException("set both " + ACCESS_KEY + " and " + SECRET_KEY + ", or neither");
        }
    }

    /** Settings for an S3-compatible server at {@code endpoint} with static keys and the default bucket. */
    public static S3Settings of(URI endpoint, String accessKey, String secretKey) {
        return new S3Settings(endpoint, DEFAULT_REGION, DEFAULT_BUCKET, true, accessKey, secretKey);
    }

    /**
     * Reads the {@code petal.s3.*} keys through {@code lookup}, which returns {@code null} for a
     * missing key. Examples: {@code fromConfig(System::getProperty)},
     * {@code fromConfig(k -> config.getOptionalValue(k, String.class).orElse(null))}.
     */
    public static S3Settings fromConfig(Function<String, String> lookup) {
        Objects.requireNonNull(lookup, "lookup");
        String endpoint = blankToNull(lookup.apply(ENDPOINT));
        String pathStyle = blankToNull(lookup.apply(PATH_STYLE));
        return new S3Settings(
                endpoint == null ? null : URI.create(endpoint),
                lookup.apply(REGION),
                lookup.apply(BUCKET),
                pathStyle == null || Boolean.parseBoolean(pathStyle),
                lookup.apply(ACCESS_KEY),
                lookup.apply(SECRET_KEY));
    }

    /** True when requests are signed with the static keys rather than the default credentials chain. */
    public boolean hasStaticCredentials() {
        return accessKey != null;
    }

    /** These settings as {@code petal.s3.*} configuration entries (absent values are left out). */
    public Map<String, String> toConfig() {
        Map<String, String> config = new LinkedHashMap<>();
        if (endpoint != null) {
            config.put(ENDPOINT, endpoint.toString());
        }
        config.put(REGION, region);
        config.put(BUCKET, bucket);
        config.put(PATH_STYLE, Boolean.toString(pathStyle));
        if (accessKey != null) {
            config.put(ACCESS_KEY, accessKey);
            config.put(SECRET_KEY, secretKey);
        }
        return config;
    }

    /** Never prints the secret key. */
    @Override
    public String toString() {
        return "S3Settings[endpoint=" + endpoint + ", region=" + region + ", bucket=" + bucket
                + ", pathStyle=" + pathStyle + ", accessKey=" + accessKey
                + ", secretKey=" + (secretKey == null ? null : "****") + "]";
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }
}
