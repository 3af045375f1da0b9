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

/// The opening of a chart: the frame, its accessible name and description, the y axis with
/// `ticks` gridlines up to `max` and its label, and the x axis label.
fn open(chart: &Chart<'_>, max: f64, ticks: usize) -> String {
    let mut svg = String::new();
    let (id, title, description) = (escape(chart.id), escape(chart.title), escape(chart.description));
    let _ = write!(
        svg,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="system-ui, sans-serif" font-size="13"><title id="{id}-title">{title}</title><desc id="{id}-desc">{description}</desc>"#
    );
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
    let top = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    // A round scale: 4 ticks of a whole step.
    let max = (top.div_ceil(4).max(1) * 4) as f64;
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
    let pattern = format!("{}-hatch", escape(id));
    let _ = write!(
        svg,
        r##"<defs><pattern id="{pattern}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#2456d3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8fb0f5" stroke-width="2"/></pattern></defs>"##
    );
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
            r##"<g class="bar"><rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" fill="url(#{pattern})" stroke="#1d2330" stroke-width="0.5"/><title>{}: {}</title><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#1d2330">{}</text></g>"##,
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

// Calibration's charts: drawn by `templates/charts/charts.html` from these figures. Horizontal
// bars of counts (the options chosen), and strips of scores from 0 to 100 with the agreed one.

/// Horizontal bars, one per row, with the count written after each bar.
pub struct BarChart {
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub label_width: u32,
    pub bars: Vec<Bar>,
}

pub struct Bar {
    pub label: String,
    pub value: usize,
    pub y: u32,
    pub length: u32,
}

const ROW: u32 = 24;
const LABEL_CHARS: usize = 22;

/// `text` cut to what fits beside a chart, with an ellipsis when cut.
fn fitted(text: &str) -> String {
    shortened(text, LABEL_CHARS)
}

/// `text` in at most `chars` characters, cut with an ellipsis.
fn shortened(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    format!("{cut}…")
}

impl BarChart {
    pub fn counts(title: impl Into<String>, rows: &[(String, usize)]) -> Self {
        let (width, label_width) = (360, 150);
        let longest = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let room = width - label_width - 40;
        let bars = rows
            .iter()
            .zip(0u32..)
            .map(|((label, value), i)| Bar {
                label: fitted(label),
                value: *value,
                y: i * ROW + 4,
                length: u32::try_from(*value).unwrap_or(u32::MAX).saturating_mul(room)
                    / u32::try_from(longest).unwrap_or(1),
            })
            .collect::<Vec<_>>();
        let height = u32::try_from(bars.len()).unwrap_or(0) * ROW + 8;
        Self { title: title.into(), width, height, label_width, bars }
    }
}

/// Scores from 0 to 100 on one line per row: a circle per participant, a diamond for the
/// agreed score.
pub struct StripChart {
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub right: u32,
    pub rows: Vec<Strip>,
    /// (x, label) of the axis ticks.
    pub ticks: Vec<(u32, String)>,
    pub axis_y: u32,
}

pub struct Strip {
    pub label: String,
    pub y: u32,
    pub dots: Vec<u32>,
    /// The diamond's points, when there is an agreed score.
    pub agreed: Option<String>,
}

impl StripChart {
    /// `rows`: a label, the scores in hundredths, the agreed score.
    pub fn scores(title: impl Into<String>, rows: &[(String, Vec<u32>, Option<u32>)]) -> Self {
        let (width, left, right) = (520u32, 130u32, 500u32);
        let x = |hundredths: u32| left + hundredths.min(10_000) * (right - left) / 10_000;
        let strips = rows
            .iter()
            .zip(0u32..)
            .map(|((label, scores, agreed), i)| {
                let y = i * 28 + 16;
                Strip {
                    label: fitted(label),
                    y,
                    dots: scores.iter().map(|&s| x(s)).collect(),
                    agreed: agreed.map(|a| {
                        let cx = x(a);
                        format!("{},{} {},{} {},{} {},{}", cx, y - 8, cx + 8, y, cx, y + 8, cx - 8, y)
                    }),
                }
            })
            .collect::<Vec<_>>();
        let axis_y = u32::try_from(strips.len()).unwrap_or(0) * 28 + 8;
        let ticks = (0..=4).map(|t| (x(t * 2500), (t * 25).to_string())).collect();
        Self { title: title.into(), width, height: axis_y + 22, left, right, rows: strips, ticks, axis_y }
    }
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
}
