package dev.petal.trainer.cli;

import dev.petal.common.auth.BearerToken;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import dev.petal.trainer.service.TrainerSettings;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./petal trainer retrain}: asks a running trainer service for a run, as {@code POST /train} does. */
@Command(name = "retrain", mixinStandardHelpOptions = true,
        description = "Ask the running trainer service (trainer serve) to start a run, with the bearer token of"
                + " PETAL_AUTH_TOKEN. Exit 0: started; 1: busy, unreachable or not allowed; 2: the service refused the recipe.")
public class RetrainCommand implements Callable<Integer> {
    @Option(names = "--url", description = "The trainer service (default: petal.trainer.url; ./petal finds the one ./petal up started).")
    String url;

    /** The configured service (petal.trainer.url); null when the command is built outside CDI, then --url is needed. */
    @Inject
    TrainerSettings settings;

    @Parameters(arity = "0..1", paramLabel = "JSON", description = "Recipe fields over the service's recipe, e.g. '{\"epochs\": 3}'.")
    String overrides;

    @Override
    public Integer call() throws InterruptedException {
        String base = url != null ? url : settings.url();
        URI target = URI.create(base.replaceAll("/+$", "") + "/train");
        HttpRequest.Builder builder = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(overrides == null ? "" : overrides));
        // Read here, not injected: the command also runs built outside CDI (its --url then names the service).
        BearerToken.header(key -> ConfigProvider.getConfig().getOptionalValue(key, String.class).orElse(null))
                .ifPresent(value -> builder.header("Authorization", value));
        HttpRequest request = builder.build();
        HttpResponse<String> response;
        try {
            response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                    .send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            System.err.println("retrain: the trainer service at " + base + " did not answer (" + e + "); is it running (./petal up)?");
            return 1;
        }
        System.out.println(response.body());
        return switch (response.statusCode()) {
            case 202 -> 0;
            case 400 -> {
                System.err.println("retrain: the service refused the recipe");
                yield 2;
            }
            case 401 -> {
                System.err.println("retrain: the service wants a valid bearer token: set PETAL_AUTH_TOKEN (./petal sets one"
                        + " for the stack ./petal up started)");
                yield 1;
            }
            case 403 -> {
                System.err.println("retrain: the token's roles do not allow POST /train (it needs trainer or admin)");
                yield 1;
            }
            case 409 -> {
                System.err.println("retrain: a run is in progress already");
                yield 1;
            }
            default -> {
                System.err.println("retrain: unexpected HTTP " + response.statusCode() + " from " + target);
                yield 1;
            }
        };
    }
}
