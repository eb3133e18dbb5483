package dev.petal.trainer.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.trainer.job.Recipe;
import dev.petal.trainer.job.TrainingJob;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * {@code POST /train} starts one run in the background (JSON body: recipe fields to override the
 * seed recipe, e.g. {"epochs": 3, "imageSize": 96}); one run at a time. {@code GET /train} reports it.
 */
@Path("/train")
@ApplicationScoped
public class TrainResource {
    private static final Logger LOG = Logger.getLogger(TrainResource.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "petal-training-run"));
    private volatile Map<String, Object> state = Map.of("state", "idle");

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public synchronized Response start(String body) {
        if ("running".equals(state.get("state"))) {
            return Response.status(409).entity(state).build();
        }
        Recipe recipe;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> overrides = body == null || body.isBlank() ? Map.of() : JSON.readValue(body, Map.class);
            Recipe base = Recipe.seedRecipe();
            base = new Recipe(base.modelName(), base.arch(), base.epochs(), base.batchSize(), base.lr(), base.weightDecay(),
                    base.warmupIters(), base.imageSize(), base.augment(), base.seed(), TrainerConfig.device(), base.smallStem(),
                    base.zeroInitResidual(), base.normalize(), base.resume(), base.initWeights(), base.stopAfterEpochs(),
                    base.checkpointIntervalSeconds(), base.decodeThreads(), base.prefetchBatches(), base.cacheMegabytes(),
                    base.dataset());
            recipe = base.withOverrides(JSON, overrides).validated();
        } catch (Exception e) {
            return Response.status(400).entity(Map.of("error", String.valueOf(e.getMessage()))).build();
        }
        state = Map.of("state", "running", "recipe", recipe);
        runner.submit(() -> run(recipe));
        return Response.accepted(state).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> status() {
        return state;
    }

    private void run(Recipe recipe) {
        try {
            TrainingJob.Result result = new TrainingJob(recipe, TrainerConfig.kafka(), TrainerConfig.s3(),
                    TrainerConfig.imageLimits(), null).run();
            Map<String, Object> done = new LinkedHashMap<>();
            done.put("state", "done");
            done.put("version", result.manifest().version());
            done.put("metrics", result.manifest().metrics());
            state = done;
        } catch (Exception e) {
            LOG.error("training run failed", e);
            state = Map.of("state", "failed", "error", String.valueOf(e.getMessage()));
        }
    }

    @PreDestroy
    void stop() {
        runner.shutdownNow();
    }
}
