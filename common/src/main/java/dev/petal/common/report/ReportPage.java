package dev.petal.common.report;

/**
 * The frame of a self-contained HTML report: one file with its styles inline and no script, so it
 * opens offline in any browser. The styles keep the page within the window: charts scale to their
 * column, wide tables scroll inside their own box, long names wrap.
 */
public final class ReportPage {
    private static final String STYLE = String.join("",
            "*{box-sizing:border-box}",
            "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;line-height:1.45;",
            "margin:0 auto;padding:16px 24px 48px;max-width:1200px;overflow-wrap:anywhere}",
            "h1{font-size:1.5em;margin:.4em 0}h3{font-size:1.05em;margin:1.2em 0 .4em}h2{font-size:1.2em;margin:1.8em 0 .6em;padding-bottom:.2em;border-bottom:1px solid #d0d7de}",
            "p{margin:.4em 0}.note{color:#57606a;font-size:.9em}",
            ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:12px 24px}",
            "figure{margin:0}figure.chart figcaption{font-weight:600;font-size:.95em}",
            "figure.chart svg{display:block;width:100%;height:auto}",
            ".table-wrap{max-width:100%;overflow-x:auto;margin:.5em 0}",
            "table{border-collapse:collapse;font-size:.88em}",
            "th,td{border:1px solid #d0d7de;padding:3px 8px;white-space:nowrap}th{background:#f6f8fa;text-align:left}",
            "td.num{text-align:right;font-variant-numeric:tabular-nums}",
            ".gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:12px}",
            ".gallery figure{font-size:.8em}.gallery img{display:block;width:96px;height:96px;object-fit:cover;border-radius:4px}",
            ".ok{color:#1a7f37}.bad{color:#cf222e}",
            "img,svg{max-width:100%}");

    private ReportPage() {}

    /** The whole document: {@code body} is HTML (escape what is not). */
    public static String document(String title, String body) {
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>" + escape(title)
                + "</title><style>" + STYLE + "</style></head><body>" + body + "</body></html>";
    }

    /** Text made safe for HTML content and attribute values. */
    public static String escape(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#39;");
    }
}
