package dev.petal.localstack.pipeline;

import dev.petal.common.report.ClassifiedImage;
import dev.petal.common.report.ConfusionMatrixTable;
import dev.petal.common.report.Formats;
import dev.petal.common.report.ImageGallery;
import dev.petal.common.report.ReportPage;
import dev.petal.common.report.Thumbnail;
import dev.petal.common.report.TrainingReport;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The demo's self-contained HTML report: the training curves and epoch table (as in the trainer's own
 * report), then the valid split as scored through Kafka: confusion matrix, per-class accuracy, samples.
 */
final class DemoReport {
    private DemoReport() {}

    static Path write(Path file, String model, String version, String dataset, DemoResults results,
                      TrainingHistory.Run history, int sent, int deadLetters) throws IOException {
        StringBuilder body = new StringBuilder("<h1>Petal demo</h1><p>Dataset <b>").append(esc(dataset)).append("</b>, model <b>")
                .append(esc(model)).append("</b> version <b>").append(esc(version)).append("</b>. ")
                .append(Formats.count(sent)).append(" valid-split images sent to petal.images, ")
                .append(Formats.count(results.scored.size())).append(" predictions, ").append(Formats.count(deadLetters))
                .append(" dead letters. Accuracy <b>").append(Formats.percent(results.accuracy())).append("</b>.</p>");

        body.append(TrainingReport.trainingSection(history.epochs(), history.steps()));

        body.append("<h2>Confusion matrix</h2><p class=\"note\">The valid split scored by the inference service. Rows: true "
                + "label; columns: predicted. A cell's shade is its share of its row.</p>");
        body.append(ConfusionMatrixTable.html(results.labels, results.confusion));

        body.append("<h2>Sample predictions</h2>");
        List<ClassifiedImage> samples = new ArrayList<>();
        for (DemoResults.Scored s : results.samples(24)) {
            String thumbnail = thumbnail(s.image().bytes());
            if (thumbnail != null) {
                samples.add(new ClassifiedImage(thumbnail, s.image().label(), s.prediction().label(), s.prediction().score()));
            }
        }
        body.append(ImageGallery.html(samples));
        Files.createDirectories(file.getParent());
        Files.writeString(file, ReportPage.document("Petal demo report", body.toString()), StandardCharsets.UTF_8);
        return file;
    }

    /** A thumbnail data URI, or null when this JVM's ImageIO cannot read the image. */
    static String thumbnail(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return null;
        }
        try {
            BufferedImage source = ImageIO.read(new ByteArrayInputStream(bytes));
            return source == null ? null : Thumbnail.jpegDataUri(source, Thumbnail.SIZE);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String esc(String s) {
        return ReportPage.escape(s);
    }
}
