//! Charts drawn on the server as inline SVG: no script, no external font. Each carries a
//! `<title>` and `<desc>` for screen readers, labels every value it draws (so it reads without
//! colour), and has axes with labels. Pages put the same figures in a table beside or below.

use std::fmt::Write;

const WIDTH: f64 = 520.0;
/// Of the 13-pixel system font, for how many characters fit a width.
const AVERAGE_CHAR_WIDTH: f64 = 7.0;
const HEIGHT: f64 = 270.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 46.0;

/// Text for SVG content and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What every chart names: its id (unique on the page), its accessible title and description,
/// and what each axis shows.
pub struct Chart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub y_axis: &'a str,
    pub x_axis: &'a str,
}

/// One drawn value: its label on the x axis and the value (`None`: nothing to draw there).
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
}

/// The frame of every chart, `height` high: its accessible name and description.
fn frame(chart: &Chart<'_>, height: f64) -> String {
    let mut svg = String::new();
    let (id, title, description) = (escape(chart.id), escape(chart.title), escape(chart.description));
    let _ = write!(
        svg,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="system-ui, sans-serif" font-size="13"><title id="{id}-title">{title}</title><desc id="{id}-desc">{description}</desc>"#
    );
    svg
}

/// Defines the hatching of bars (so they read in any print) and returns its fill.
fn hatch(svg: &mut String, chart_id: &str) -> String {
    let pattern = format!("{}-hatch", escape(chart_id));
    let _ = write!(
        svg,
        r##"<defs><pattern id="{pattern}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#2456d3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8fb0f5" stroke-width="2"/></pattern></defs>"##
    );
    format!("url(#{pattern})")
}

/// A round scale for counts up to `top`: 4 ticks of a whole step.
fn count_scale(top: u64) -> f64 {
    (top.max(1).div_ceil(4) * 4) as f64
}

/// The opening of a chart: the frame, its accessible name and description, the y axis with
/// `ticks` gridlines up to `max` and its label, and the x axis label.
fn open(chart: &Chart<'_>, max: f64, ticks: usize) -> String {
    let mut svg = frame(chart, HEIGHT);
    let plot_height = HEIGHT - TOP - BOTTOM;
    for i in 0..=ticks {
        let value = max * i as f64 / ticks as f64;
        let y = TOP + plot_height - plot_height * i as f64 / ticks as f64;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#dde1ea"/><text x="{}" y="{:.1}" text-anchor="end" fill="#5b6474">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            trim(value)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" stroke="#1d2330"/><line x1="{LEFT}" x2="{}" y1="{y}" y2="{y}" stroke="#1d2330"/><text x="12" y="{}" transform="rotate(-90 12 {})" text-anchor="middle" fill="#1d2330">{}</text><text x="{}" y="{}" text-anchor="middle" fill="#1d2330">{}</text>"##,
        TOP + plot_height,
        WIDTH - RIGHT,
        TOP + plot_height / 2.0,
        TOP + plot_height / 2.0,
        escape(chart.y_axis),
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 6.0,
        escape(chart.x_axis),
        y = TOP + plot_height,
    );
    svg
}

/// A value as an axis shows it: whole numbers without decimals.
fn trim(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// Only every n-th label fits when there are many points.
fn label_step(points: usize) -> usize {
    points.div_ceil(12).max(1)
}

/// A line over `points` on a 0–100 scale, each point a marker with its value written above
/// it; a missing value breaks the line.
pub fn line_chart(chart: &Chart<'_>, points: &[Point]) -> String {
    let mut svg = open(chart, 100.0, 4);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let step = plot_width / points.len().max(1) as f64;
    let x_of = |i: usize| LEFT + step * (i as f64 + 0.5);
    let y_of = |v: f64| TOP + plot_height - plot_height * v.clamp(0.0, 100.0) / 100.0;
    let mut path = String::new();
    let mut pen_down = false;
    for (i, point) in points.iter().enumerate() {
        match point.value {
            Some(v) => {
                let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x_of(i), y_of(v));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !path.is_empty() {
        let _ =
            write!(svg, r##"<path d="{}" fill="none" stroke="#2456d3" stroke-width="2"/>"##, path.trim_end());
    }
    let every = label_step(points.len());
    for (i, point) in points.iter().enumerate() {
        let x = x_of(i);
        if i % every == 0 {
            let _ = write!(
                svg,
                r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#5b6474">{}</text>"##,
                TOP + plot_height + 16.0,
                escape(&point.label)
            );
        }
        if let Some(v) = point.value {
            let y = y_of(v);
            let _ = write!(
                svg,
                r##"<g class="point"><rect x="{:.1}" y="{:.1}" width="7" height="7" fill="#fff" stroke="#2456d3" stroke-width="2"/><title>{}: {v:.2}</title>"##,
                x - 3.5,
                y - 3.5,
                escape(&point.label)
            );
            if points.len() <= 16 {
                let _ = write!(
                    svg,
                    r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#1d2330">{v:.1}</text>"##,
                    (y - 8.0).max(10.0)
                );
            }
            svg.push_str("</g>");
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Bars of counts, each labelled with its count above it (and hatched, so bars read in any
/// print).
pub fn bar_chart(chart: &Chart<'_>, bars: &[(String, u64)]) -> String {
    let max = count_scale(bars.iter().map(|(_, n)| *n).max().unwrap_or(0));
    let bars: Vec<(&str, f64, String)> =
        bars.iter().map(|(label, n)| (label.as_str(), *n as f64, n.to_string())).collect();
    draw_bars(open(chart, max, 4), chart.id, &bars, max)
}

/// Bars of values on a 0–100 scale (a share, a score), each labelled with its value; no bar
/// where there is no value.
pub fn column_chart(chart: &Chart<'_>, points: &[Point]) -> String {
    let bars: Vec<(&str, f64, String)> = points
        .iter()
        .map(|p| {
            (
                p.label.as_str(),
                p.value.unwrap_or(0.0),
                p.value.map_or("N/A".to_owned(), |v| format!("{v:.1}")),
            )
        })
        .collect();
    draw_bars(open(chart, 100.0, 4), chart.id, &bars, 100.0)
}

/// Draws (label, value, value as written) bars on a scale up to `max` and closes the chart.
fn draw_bars(mut svg: String, id: &str, bars: &[(&str, f64, String)], max: f64) -> String {
    let fill = hatch(&mut svg, id);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / bars.len().max(1) as f64;
    let every = label_step(bars.len());
    // An x-axis label gets the room of the bars up to the next one; the bar's title keeps it whole.
    let label_chars = ((slot * every as f64) / AVERAGE_CHAR_WIDTH) as usize;
    for (i, (label, value, written)) in bars.iter().enumerate() {
        let height = plot_height * value.clamp(0.0, max) / max;
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let y = TOP + plot_height - height;
        let _ = write!(
            svg,
            r##"<g class="bar"><rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" fill="{fill}" stroke="#1d2330" stroke-width="0.5"/><title>{}: {}</title><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#1d2330">{}</text></g>"##,
            slot * 0.7,
            escape(label),
            escape(written),
            x + slot * 0.35,
            (y - 4.0).max(10.0),
            escape(written)
        );
        if i % every == 0 {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#5b6474">{}</text>"##,
                x + slot * 0.35,
                TOP + plot_height + 16.0,
                escape(&shortened(label, label_chars.max(3)))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// `text` in at most `chars` characters, cut with an ellipsis.
pub fn shortened(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// A row of a row chart or a strip chart.
const ROW_HEIGHT: f64 = 30.0;
/// Room for a row's label left of its bar or strip.
const ROW_LEFT: f64 = 150.0;
/// Above the first row, and below the axis for its ticks and label.
const ROW_TOP: f64 = 8.0;
const ROW_BOTTOM: f64 = 42.0;

/// The x axis of charts laid in rows, on a scale up to `max` from `ROW_LEFT` over
/// `plot_width`: gridlines with their values, the axis and its label.
fn row_axis(svg: &mut String, chart: &Chart<'_>, axis_y: f64, plot_width: f64, max: f64) {
    for tick in 0..=4 {
        let value = max * f64::from(tick) / 4.0;
        let x = ROW_LEFT + plot_width * f64::from(tick) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{ROW_TOP}" y2="{axis_y}" stroke="#dde1ea"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#5b6474">{}</text>"##,
            axis_y + 16.0,
            trim(value)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{ROW_LEFT}" x2="{:.1}" y1="{axis_y}" y2="{axis_y}" stroke="#1d2330"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#1d2330">{}</text>"##,
        ROW_LEFT + plot_width,
        ROW_LEFT + plot_width / 2.0,
        axis_y + 34.0,
        escape(chart.x_axis)
    );
}

/// The label of a row, cut to its room (its title keeps it whole).
fn row_label(svg: &mut String, label: &str, y: f64) {
    let chars = ((ROW_LEFT - 10.0) / AVERAGE_CHAR_WIDTH) as usize;
    let _ = write!(
        svg,
        r##"<text x="0" y="{:.1}" fill="#1d2330"><title>{}</title>{}</text>"##,
        y + 4.0,
        escape(label),
        escape(&shortened(label, chars))
    );
}

/// Bars of counts laid along, one row each (labels longer than a column's room read in
/// full there), hatched like every bar, each count written after its bar.
pub fn row_chart(chart: &Chart<'_>, bars: &[(String, u64)]) -> String {
    let max = count_scale(bars.iter().map(|(_, n)| *n).max().unwrap_or(0));
    // Room after the longest bar for its count.
    let plot_width = WIDTH - ROW_LEFT - RIGHT - 24.0;
    let axis_y = ROW_TOP + ROW_HEIGHT * bars.len() as f64;
    let mut svg = frame(chart, axis_y + ROW_BOTTOM);
    let fill = hatch(&mut svg, chart.id);
    row_axis(&mut svg, chart, axis_y, plot_width, max);
    for (i, (label, count)) in bars.iter().enumerate() {
        let y = ROW_TOP + ROW_HEIGHT * (i as f64 + 0.5);
        row_label(&mut svg, label, y);
        let length = plot_width * (*count as f64).min(max) / max;
        let _ = write!(
            svg,
            r##"<g class="bar"><rect x="{ROW_LEFT}" y="{:.1}" width="{length:.1}" height="18" fill="{fill}" stroke="#1d2330" stroke-width="0.5"/><title>{}: {count}</title><text x="{:.1}" y="{:.1}" fill="#1d2330">{count}</text></g>"##,
            y - 9.0,
            escape(label),
            ROW_LEFT + length + 6.0,
            y + 4.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One row of a strip chart: its label, the values drawn as circles, and the one drawn as a
/// diamond (the agreed value).
pub struct Strip {
    pub label: String,
    pub values: Vec<f64>,
    pub marked: Option<f64>,
}

/// Values on a 0–100 scale, one row each: a circle per value and a diamond for the marked one
/// (drawn first, so a circle on the same value stays visible), gridlines every 25 with their
/// labels, and a key in the chart itself, so the shapes read without colour.
pub fn strip_chart(chart: &Chart<'_>, strips: &[Strip], circle: &str, diamond: &str) -> String {
    let plot_width = WIDTH - ROW_LEFT - RIGHT;
    let axis_y = ROW_TOP + ROW_HEIGHT * strips.len() as f64;
    // Below the axis: the key.
    let height = axis_y + ROW_BOTTOM + 24.0;
    let x_of = |v: f64| ROW_LEFT + plot_width * v.clamp(0.0, 100.0) / 100.0;
    let mut svg = frame(chart, height);
    row_axis(&mut svg, chart, axis_y, plot_width, 100.0);
    for (i, strip) in strips.iter().enumerate() {
        let y = ROW_TOP + ROW_HEIGHT * (i as f64 + 0.5);
        let label = escape(&strip.label);
        row_label(&mut svg, &strip.label, y);
        let _ = write!(
            svg,
            r##"<line x1="{ROW_LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#8a93a6" stroke-dasharray="2 3"/>"##,
            ROW_LEFT + plot_width,
        );
        if let Some(v) = strip.marked {
            let x = x_of(v);
            let _ = write!(
                svg,
                r##"<g class="marked"><polygon points="{:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="#1d2330"/><title>{label}, {}: {v:.2}</title></g>"##,
                x,
                y - 10.0,
                x + 10.0,
                y + 10.0,
                x - 10.0,
                escape(diamond)
            );
        }
        for v in &strip.values {
            let x = x_of(*v);
            let _ = write!(
                svg,
                r##"<g class="value"><circle cx="{x:.1}" cy="{y:.1}" r="5" fill="#fff" stroke="#2456d3" stroke-width="2"/><title>{label}, {}: {v:.2}</title></g>"##,
                escape(circle)
            );
        }
    }
    // The key: the shapes and what they stand for, under the axis.
    let key_y = height - 6.0;
    let _ = write!(
        svg,
        r##"<circle cx="6" cy="{:.1}" r="5" fill="#fff" stroke="#2456d3" stroke-width="2"/><text x="16" y="{key_y:.1}" fill="#1d2330">{}</text><polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="#1d2330"/><text x="{:.1}" y="{key_y:.1}" fill="#1d2330">{}</text>"##,
        key_y - 4.0,
        escape(circle),
        WIDTH / 2.0,
        key_y - 12.0,
        WIDTH / 2.0 + 8.0,
        key_y - 4.0,
        WIDTH / 2.0,
        key_y + 4.0,
        WIDTH / 2.0 - 8.0,
        key_y - 4.0,
        WIDTH / 2.0 + 14.0,
        escape(diamond)
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_text_and_label_every_value() {
        let points = [
            Point { label: "<w1>".to_owned(), value: Some(50.0) },
            Point { label: "w2".to_owned(), value: None },
            Point { label: "w3".to_owned(), value: Some(75.5) },
        ];
        let chart = Chart {
            id: "t",
            title: "Trend & more",
            description: "desc",
            y_axis: "Average score",
            x_axis: "Week",
        };
        let line = line_chart(&chart, &points);
        assert!(line.starts_with("<svg") && line.ends_with("</svg>"));
        assert!(line.contains("<title id=\"t-title\">Trend &amp; more</title>"));
        assert!(line.contains("&lt;w1&gt;") && !line.contains("<w1>"));
        assert_eq!(line.matches("class=\"point\"").count(), 2, "no marker where there is no value");
        assert!(line.contains(">50.0</text>") && line.contains(">75.5</text>"));
        assert_eq!(line.matches(" M").count() + line.matches("\"M").count(), 2, "the gap breaks the line");
        let chart =
            Chart { id: "d", title: "Scores", description: "desc", y_axis: "Evaluations", x_axis: "Score" };
        let bars = bar_chart(&chart, &[("0–9".to_owned(), 3), ("90–100".to_owned(), 0)]);
        assert!(bars.contains(">3</text>") && bars.contains(">0</text>"));
        assert!(bars.contains("url(#d-hatch)"));
    }

    #[test]
    fn a_strip_chart_draws_a_circle_per_value_a_diamond_for_the_marked_one_and_its_key() {
        let chart =
            Chart { id: "s", title: "Scores", description: "desc", y_axis: "Section", x_axis: "Score" };
        let strips = [
            Strip { label: "Tone & manner".to_owned(), values: vec![50.0, 75.5], marked: Some(60.0) },
            Strip { label: "Overall".to_owned(), values: vec![], marked: None },
        ];
        let svg = strip_chart(&chart, &strips, "a participant", "agreed");
        let rows = row_chart(&chart, &[("No, \"never\"".to_owned(), 2), ("N/A".to_owned(), 0)]);
        assert_eq!(rows.matches("class=\"bar\"").count(), 2);
        assert!(
            rows.contains("fill=\"url(#s-hatch)\"")
                && rows.contains(">2</text>")
                && rows.contains(">0</text>")
        );
        assert!(rows.contains("<title>No, &quot;never&quot;: 2</title>"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("aria-labelledby=\"s-title s-desc\""));
        assert_eq!(svg.matches("class=\"value\"").count(), 2);
        assert_eq!(svg.matches("class=\"marked\"").count(), 1);
        assert!(svg.contains("<title>Tone &amp; manner, a participant: 75.50</title>"));
        assert!(svg.contains(">a participant</text>") && svg.contains(">agreed</text>"), "the key");
    }
}
