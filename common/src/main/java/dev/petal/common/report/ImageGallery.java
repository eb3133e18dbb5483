package dev.petal.common.report;

import java.util.List;

/** A grid of thumbnails, each captioned with its prediction (green when right, red when wrong) and true label. */
public final class ImageGallery {
    private ImageGallery() {}

    public static String html(List<ClassifiedImage> images) {
        StringBuilder html = new StringBuilder("<div class=\"gallery\">");
        for (ClassifiedImage image : images) {
            String caption = "predicted " + image.predictedLabel() + " (" + Formats.percent(image.score()) + "), true "
                    + image.trueLabel();
            html.append("<figure><img alt=\"").append(ReportPage.escape(caption)).append("\" src=\"")
                    .append(ReportPage.escape(image.thumbnail())).append("\"><figcaption><span class=\"")
                    .append(image.correct() ? "ok" : "bad").append("\">").append(ReportPage.escape(image.predictedLabel()))
                    .append(' ').append(Formats.percent(image.score())).append("</span><br>true: ")
                    .append(ReportPage.escape(image.trueLabel())).append("</figcaption></figure>");
        }
        return html.append("</div>").toString();
    }
}
