package dev.petal.common.report;

import java.util.ArrayList;
import java.util.List;

/**
 * An HTML table inside its own scrolling box, so a table wider than the window scrolls sideways
 * instead of widening the page. Numbers are right-aligned in tabular figures.
 */
public final class DataTable {
    /** One cell: its text (escaped when rendered), whether it is a number, and an optional inline style. */
    public record Cell(String text, boolean numeric, boolean header, String style, String tooltip) {
        public static Cell text(String text) {
            return new Cell(text, false, false, null, null);
        }

        public static Cell number(String formatted) {
            return new Cell(formatted, true, false, null, null);
        }

        /** A row's label, rendered as a header cell. */
        public static Cell rowHeader(String text) {
            return new Cell(text, false, true, null, null);
        }

        public Cell styled(String css, String hover) {
            return new Cell(text, numeric, header, css, hover);
        }
    }

    private final List<String> headers;
    private final List<List<Cell>> rows = new ArrayList<>();

    public DataTable(List<String> headers) {
        this.headers = List.copyOf(headers);
    }

    public DataTable row(List<Cell> cells) {
        rows.add(List.copyOf(cells));
        return this;
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    public String html() {
        StringBuilder t = new StringBuilder("<div class=\"table-wrap\"><table><thead><tr>");
        headers.forEach(h -> t.append("<th>").append(ReportPage.escape(h)).append("</th>"));
        t.append("</tr></thead><tbody>");
        for (List<Cell> row : rows) {
            t.append("<tr>");
            for (Cell c : row) {
                String tag = c.header() ? "th" : "td";
                t.append('<').append(tag);
                if (c.numeric()) {
                    t.append(" class=\"num\"");
                }
                if (c.style() != null) {
                    t.append(" style=\"").append(ReportPage.escape(c.style())).append('"');
                }
                if (c.tooltip() != null) {
                    t.append(" title=\"").append(ReportPage.escape(c.tooltip())).append('"');
                }
                t.append('>').append(ReportPage.escape(c.text())).append("</").append(tag).append('>');
            }
            t.append("</tr>");
        }
        return t.append("</tbody></table></div>").toString();
    }
}
