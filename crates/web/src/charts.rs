//! Charts drawn on the server as inline SVG (no scripts, no fonts): every mark carries its
//! figure as text or a distinct shape, so a chart reads without colour, and each page shows
//! the chart's table beside it. Templates draw them with `templates/charts/*.html`.

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
    if text.chars().count() <= LABEL_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(LABEL_CHARS - 1).collect();
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
