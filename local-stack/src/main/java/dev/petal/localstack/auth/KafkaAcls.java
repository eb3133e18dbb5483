package dev.petal.localstack.auth;

import dev.petal.common.records.DeadLetterReplay;
import dev.petal.common.records.Topics;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The grants of docs/security.md's "Kafka principals" table (the production KafkaUsers of
 * {@code deploy/strimzi/users.yaml}), for the secure local stack's principals: each service may do what its code
 * does and nothing else. Nobody but {@link KafkaUsers#ADMIN} creates or deletes topics or touches the cluster.
 */
public final class KafkaAcls {
    /**
     * The trainer's consumer groups, by prefix: petal-trainer-dead-letters (how far bad dataset records were
     * dead-lettered) and each instance's own petal-trainer-arrivals-* and petal-trainer-models-* (auto-retrain).
     */
    static final String TRAINER_GROUPS = "petal-trainer-";
    /**
     * The inference replicas' consumer group and transactional-id prefix ({@code petal.inference.group}'s default);
     * as a group prefix it also covers each replica's own petal-inference-models-* group (new versions).
     */
    static final String INFERENCE_GROUP = "petal-inference";
    /**
     * Dead-letter replay ({@code POST /dlq/replay}, the trainer's): a group per error class remembers what was replayed
     * (DeadLetterReplay.GROUP_PREFIX) and the replay publishes in transactions of id petal-dlq-replay-<dead-letter topic>.
     */
    static final String REPLAY_GROUPS = DeadLetterReplay.GROUP_PREFIX;
    static final String REPLAY_TRANSACTIONS = "petal-dlq-replay-";

    private KafkaAcls() {}

    public static List<AclBinding> bindings() {
        List<AclBinding> acls = new ArrayList<>();
        // ingest publishes datasets (and reads petal.train back, outside any group, to skip images already there),
        // images to score and rejected inputs
        allow(acls, KafkaUsers.INGEST, ResourceType.TOPIC, Topics.TRAIN, PatternType.LITERAL,
                AclOperation.DESCRIBE, AclOperation.WRITE, AclOperation.READ);
        allow(acls, KafkaUsers.INGEST, ResourceType.TOPIC, Topics.IMAGES, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.WRITE);
        allow(acls, KafkaUsers.INGEST, ResourceType.TOPIC, Topics.DLQ, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.WRITE);
        // the trainer reads the dataset by assignment, marks its dead letters in a group, announces checkpoints, and
        // (auto-retrain) follows petal.train and petal.models in groups of its own instance
        allow(acls, KafkaUsers.TRAINER, ResourceType.TOPIC, Topics.TRAIN, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.READ);
        allow(acls, KafkaUsers.TRAINER, ResourceType.GROUP, TRAINER_GROUPS, PatternType.PREFIXED, AclOperation.READ);
        allow(acls, KafkaUsers.TRAINER, ResourceType.TOPIC, Topics.MODELS, PatternType.LITERAL,
                AclOperation.DESCRIBE, AclOperation.WRITE, AclOperation.READ);
        allow(acls, KafkaUsers.TRAINER, ResourceType.TOPIC, Topics.DLQ, PatternType.LITERAL,
                AclOperation.DESCRIBE, AclOperation.WRITE, AclOperation.READ);
        // dead-letter replay: reads petal.dlq, re-publishes to the topics dead letters come from, in transactions that
        // commit the class's group offsets with the records
        allow(acls, KafkaUsers.TRAINER, ResourceType.GROUP, REPLAY_GROUPS, PatternType.PREFIXED, AclOperation.READ);
        allow(acls, KafkaUsers.TRAINER, ResourceType.TRANSACTIONAL_ID, REPLAY_TRANSACTIONS, PatternType.PREFIXED,
                AclOperation.DESCRIBE, AclOperation.WRITE);
        allow(acls, KafkaUsers.TRAINER, ResourceType.TOPIC, Topics.IMAGES, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.WRITE);
        allow(acls, KafkaUsers.TRAINER, ResourceType.TOPIC, Topics.TRAIN, PatternType.LITERAL, AclOperation.WRITE);
        // inference consumes images in its group, follows new versions in a group of its own, answers, dead-letters, and
        // (exactly-once) writes in transactions of ids petal-inference-<uuid>
        allow(acls, KafkaUsers.INFERENCE, ResourceType.TOPIC, Topics.IMAGES, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.READ);
        allow(acls, KafkaUsers.INFERENCE, ResourceType.GROUP, INFERENCE_GROUP, PatternType.PREFIXED, AclOperation.READ);
        allow(acls, KafkaUsers.INFERENCE, ResourceType.TOPIC, Topics.MODELS, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.READ);
        allow(acls, KafkaUsers.INFERENCE, ResourceType.TOPIC, Topics.PREDICTIONS, PatternType.LITERAL,
                AclOperation.DESCRIBE, AclOperation.WRITE);
        allow(acls, KafkaUsers.INFERENCE, ResourceType.TOPIC, Topics.PREDICTIONS_SHADOW, PatternType.LITERAL,
                AclOperation.DESCRIBE, AclOperation.WRITE); // a shadow replica's only output
        allow(acls, KafkaUsers.INFERENCE, ResourceType.TOPIC, Topics.DLQ, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.WRITE);
        allow(acls, KafkaUsers.INFERENCE, ResourceType.TRANSACTIONAL_ID, INFERENCE_GROUP, PatternType.PREFIXED,
                AclOperation.DESCRIBE, AclOperation.WRITE);
        // the console reads predictions and dead letters, scored images (thumbnails) by assignment, and the scoring
        // group's committed offsets and members (consumer lag); it writes nothing and joins no group
        allow(acls, KafkaUsers.CONSOLE, ResourceType.TOPIC, Topics.PREDICTIONS, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.READ);
        allow(acls, KafkaUsers.CONSOLE, ResourceType.TOPIC, Topics.DLQ, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.READ);
        allow(acls, KafkaUsers.CONSOLE, ResourceType.TOPIC, Topics.IMAGES, PatternType.LITERAL, AclOperation.DESCRIBE, AclOperation.READ);
        allow(acls, KafkaUsers.CONSOLE, ResourceType.GROUP, INFERENCE_GROUP, PatternType.LITERAL, AclOperation.DESCRIBE);
        return List.copyOf(acls);
    }

    private static void allow(List<AclBinding> acls, String principal, ResourceType type, String name, PatternType pattern,
                              AclOperation... operations) {
        for (AclOperation operation : operations) {
            acls.add(new AclBinding(new ResourcePattern(type, name, pattern),
                    new AccessControlEntry("User:" + principal, "*", operation, AclPermissionType.ALLOW)));
        }
    }
}
