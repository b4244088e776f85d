//! Plotly charts. Figures are built with plotly.rs and handed to the
//! plotly.js bundle we serve ourselves (`window.Plotly`); `react` updates a
//! chart in place so zoom state and the mode bar (PNG export) keep working.

use leptos::prelude::*;
use plotly::common::{ErrorData, ErrorType, Marker, Mode, Title};
use plotly::layout::{Annotation, Axis, BarMode, Layout, Legend, Margin};
use plotly::{Bar, Configuration, Plot, Scatter};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crew_mrv_core::model::{Co2Calc, Co2Day, Flag, PlantOperation, SensorDay};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Plotly, js_name = react)]
    fn plotly_react(el: &web_sys::HtmlElement, figure: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Plotly, js_name = purge)]
    fn plotly_purge(el: &web_sys::HtmlElement) -> Result<JsValue, JsValue>;
}

fn plotly_loaded() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("Plotly")).ok())
        .is_some_and(|p| !p.is_undefined() && !p.is_null())
}

/// Draw (or redraw) a figure (plotly JSON) into `el`.
fn render(el: &web_sys::HtmlElement, figure: &str) -> Result<(), String> {
    if !plotly_loaded() {
        return Err("the chart library did not load".into());
    }
    let obj = js_sys::JSON::parse(figure).map_err(|_| "bad figure".to_string())?;
    plotly_react(el, &obj)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// The x range the user zoomed to (`None` when zoomed back out), from a
/// `plotly_relayout` event's data.
fn zoom_of(ev: &JsValue) -> Option<Option<(String, String)>> {
    let get = |k: &str| js_sys::Reflect::get(ev, &JsValue::from_str(k)).ok();
    if get("xaxis.autorange").is_some_and(|v| v.is_truthy()) {
        return Some(None);
    }
    // A drag on the chart reports `xaxis.range[0]`/`[1]`; a programmatic
    // relayout may report `xaxis.range` as a pair.
    let pair = get("xaxis.range").and_then(|v| v.dyn_into::<js_sys::Array>().ok());
    let a = get("xaxis.range[0]")
        .and_then(|v| v.as_string())
        .or_else(|| pair.as_ref().and_then(|p| p.get(0).as_string()));
    let b = get("xaxis.range[1]")
        .and_then(|v| v.as_string())
        .or_else(|| pair.as_ref().and_then(|p| p.get(1).as_string()));
    match (a, b) {
        (Some(a), Some(b)) => Some(Some((a, b))),
        _ => None,
    }
}

/// Call `zoomed` whenever the user zooms the chart in `el`.
fn listen_zoom(el: &web_sys::HtmlElement, zoomed: Callback<Option<(String, String)>>) {
    let Ok(on) = js_sys::Reflect::get(el, &JsValue::from_str("on")) else {
        return;
    };
    let Ok(on) = on.dyn_into::<js_sys::Function>() else {
        return;
    };
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        if let Some(z) = zoom_of(&ev) {
            zoomed.run(z);
        }
    });
    let _ = on.call2(el, &JsValue::from_str("plotly_relayout"), handler.as_ref());
    // Lives as long as the chart element, i.e. the page.
    handler.forget();
}

/// Set `visible` once `el` comes within 50 px of the viewport (and stop
/// watching). Without IntersectionObserver, at once.
fn watch_visibility(el: &web_sys::HtmlElement, visible: RwSignal<bool>) {
    let cb = Closure::<dyn FnMut(js_sys::Array, web_sys::IntersectionObserver)>::new(
        move |entries: js_sys::Array, obs: web_sys::IntersectionObserver| {
            let seen = entries.iter().any(|e| {
                e.dyn_into::<web_sys::IntersectionObserverEntry>()
                    .map(|e| e.is_intersecting())
                    .unwrap_or(true)
            });
            if seen {
                obs.disconnect();
                visible.set(true);
            }
        },
    );
    let opts = web_sys::IntersectionObserverInit::new();
    opts.set_root_margin("50px");
    match web_sys::IntersectionObserver::new_with_options(cb.as_ref().unchecked_ref(), &opts) {
        Ok(obs) => {
            obs.observe(el);
            cb.forget();
        }
        Err(_) => visible.set(true),
    }
}

/// A chart that redraws when its figure changes.
#[component]
pub fn Chart(
    #[prop(into)] plot: Signal<Option<String>>,
    title: &'static str,
    testid: &'static str,
    /// Told the x range whenever the user zooms (None: zoomed out).
    #[prop(optional)]
    zoomed: Option<Callback<Option<(String, String)>>>,
    /// What the chart shows right now, beside the title (and as `data-note`).
    #[prop(optional, into)]
    note: Option<Signal<Option<&'static str>>>,
) -> impl IntoView {
    let note = move || note.and_then(|n| n.get());
    let node = NodeRef::<leptos::html::Div>::new();
    let error = RwSignal::new(None::<String>);
    let listening = StoredValue::new(false);
    let latest = StoredValue::new(None::<String>);
    let pending = StoredValue::new(false);
    // Each chart draws in a task of its own, after the page has updated:
    // five Plotly renders in one task would block input for too long.
    let empty = RwSignal::new(false);
    let draw = move || {
        // The chart may be gone by the time this task runs (Clear all,
        // another tab, a new report): its stored values are disposed then,
        // and reading one would panic ("already disposed").
        let Some(figure) = latest.try_get_value() else {
            return;
        };
        pending.set_value(false);
        empty.set(figure.is_none());
        let Some(el) = node.get_untracked() else {
            return;
        };
        let Some(p) = figure else {
            // Nothing to show now: clear what an earlier filter drew.
            if plotly_loaded() {
                let _ = plotly_purge(&el);
            }
            return;
        };
        let el: &web_sys::HtmlElement = &el;
        let result = render(el, &p);
        if result.is_ok() && !listening.get_value() {
            if let Some(cb) = zoomed {
                listen_zoom(el, cb);
                listening.set_value(true);
            }
        }
        error.set(result.err());
    };
    // Off-screen charts wait until they come near the viewport: five Plotly
    // renders are most of the work after a report arrives.
    let visible = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            if !visible.get_untracked() {
                watch_visibility(&el, visible);
            }
        }
    });
    Effect::new(move |_| {
        node.track();
        // An unseen chart does not even build its figure.
        if !visible.get() {
            return;
        }
        latest.set_value(plot.get());
        if !pending.get_value() {
            pending.set_value(true);
            let cb = Closure::once_into_js(draw);
            if let Some(w) = web_sys::window() {
                let _ =
                    w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 0);
            }
        }
    });
    view! {
        <figure class="chart" data-testid=testid data-note=move || note().unwrap_or("")>
            <figcaption>
                {title}
                {move || note().map(|n| view! { <span class="chart-note">{format!(" · {n}")}</span> })}
            </figcaption>
            {move || empty.get().then(|| view! { <p class="muted">"No data for the current filters."</p> })}
            <div class="plot" node_ref=node aria-label=title role="img"></div>
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
        </figure>
    }
}

pub fn flag_color(f: Flag) -> &'static str {
    match f {
        Flag::Valid => "#2e7d32",
        Flag::Invalid => "#c62828",
        Flag::MissingCaReadings => "#f9a825",
        Flag::InvalidFlow => "#6a1b9a",
        Flag::NoOpsData => "#757575",
    }
}

pub(super) const PLANT_COLORS: [&str; 6] = [
    "#1565c0", "#ef6c00", "#00838f", "#ad1457", "#558b2f", "#4e342e",
];

fn base_layout(y: &str) -> Layout {
    Layout::new()
        .margin(Margin::new().left(60).right(20).top(10).bottom(40))
        .height(320)
        .legend(Legend::new())
        .y_axis(Axis::new().title(Title::with_text(y)))
        .x_axis(Axis::new().type_(plotly::layout::AxisType::Date))
}

/// The figure as plotly JSON: plotly.rs types are not `Send`, so signals
/// carry the JSON. A constant `uirevision` keeps the user's zoom when the
/// data under a chart changes. Labels come from users' files (plant and
/// unit ids), and Plotly reads markup in labels: every one is escaped.
pub(super) fn finish(mut plot: Plot, layout: Layout) -> String {
    plot.set_layout(layout);
    plot.set_configuration(Configuration::new().responsive(true).display_logo(false));
    let json = plot.to_json();
    match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(mut v) => {
            crew_mrv_core::escape_chart_labels(&mut v);
            if let Some(l) = v.get_mut("layout").and_then(|l| l.as_object_mut()) {
                l.insert("uirevision".into(), serde_json::Value::from("keep"));
            }
            v.to_string()
        }
        // Unescaped labels must not reach Plotly: no chart rather than one
        // drawing a file's markup.
        Err(_) => String::new(),
    }
}

/// The layout of a chart that left series out, saying how many.
fn with_more_note(layout: Layout, more: Option<String>) -> Layout {
    match more {
        Some(text) => layout.annotations(vec![Annotation::new()
            .text(format!("{text} not drawn"))
            .x_ref("paper")
            .y_ref("paper")
            .x(1.0)
            .y(1.0)
            .x_anchor(plotly::common::Anchor::Right)
            .y_anchor(plotly::common::Anchor::Bottom)
            .show_arrow(false)]),
        None => layout,
    }
}

fn dates(days: &[&Co2Day]) -> Vec<String> {
    days.iter().map(|d| d.date.to_string()).collect()
}

/// Bars of one computed quantity per day, a trace per flag and plant; VALID
/// bars take their plant's colour when several plants are shown.
fn calc_bars(
    days: &[&Co2Day],
    plants: &[String],
    value: fn(&Co2Calc) -> f64,
    y_title: &str,
    error: Option<fn(&Co2Day) -> Option<f64>>,
) -> Option<String> {
    let mut plot = Plot::new();
    let multi = plants.len() > 1;
    for (pi, p) in plants.iter().enumerate() {
        for f in [Flag::Valid, Flag::Invalid] {
            let sel: Vec<&Co2Day> = days
                .iter()
                .copied()
                .filter(|d| *d.plant_id == **p && d.quality_flag == f && d.calc.is_some())
                .collect();
            if sel.is_empty() {
                continue;
            }
            let y: Vec<f64> = sel
                .iter()
                .filter_map(|d| d.calc.as_ref().map(value))
                .collect();
            let name = if multi {
                format!("{p} {f}")
            } else {
                f.to_string()
            };
            let color = if multi && f == Flag::Valid {
                PLANT_COLORS[pi % PLANT_COLORS.len()]
            } else {
                flag_color(f)
            };
            let mut bar = Bar::new(dates(&sel), y)
                .name(name)
                .marker(Marker::new().color(color));
            if let Some(error) = error {
                // The core's σ of each day (METHOD §7), drawn as ± 1 σ.
                let sigma: Vec<f64> = sel.iter().map(|d| error(d).unwrap_or(0.0)).collect();
                bar = bar.error_y(
                    ErrorData::new(ErrorType::Data)
                        .array(sigma)
                        .color("#37474f")
                        .thickness(1.0)
                        .width(2),
                );
            }
            plot.add_trace(bar);
        }
    }
    if plot.data().is_empty() {
        return None;
    }
    Some(finish(plot, base_layout(y_title).bar_mode(BarMode::Group)))
}

/// Daily CO2 removed, one trace per flag (and plant when several), with
/// each calculated day's ± 1 σ.
pub fn co2_chart(days: &[&Co2Day], plants: &[String]) -> Option<String> {
    calc_bars(
        days,
        plants,
        |c| c.co2_removed_metric_tons_per_day,
        "t CO2 / day",
        Some(|d| d.sigma.calc.map(|s| s.co2_t)),
    )
}

/// Daily mean pH per plant unit, at most the core's cap of units.
pub fn ph_chart(series: &[&SensorDay]) -> Option<String> {
    let mut plot = Plot::new();
    let keys = crew_mrv_core::chart_series(series.iter().copied());
    for (plant, unit) in &keys.shown {
        let sel: Vec<&&SensorDay> = series
            .iter()
            .filter(|s| s.plant_id == *plant && s.plant_unit_id == *unit)
            .collect();
        let x: Vec<String> = sel.iter().map(|s| s.date.to_string()).collect();
        let y: Vec<f64> = sel.iter().map(|s| s.mean).collect();
        plot.add_trace(
            Scatter::new(x, y)
                .mode(Mode::Lines)
                .name(format!("{plant} {unit}")),
        );
    }
    if plot.data().is_empty() {
        return None;
    }
    let layout = with_more_note(base_layout("daily mean pH"), keys.more_text("units"));
    Some(finish(plot, layout)).filter(|f| !f.is_empty())
}

/// One plant unit's readings: plant, unit, (time, value) points.
pub type SeriesPoints = (String, String, Vec<(chrono::NaiveDateTime, f64)>);

/// Sensor readings at full (or bucketed) resolution for a zoomed range.
pub fn ph_detail_chart(series: &[SeriesPoints]) -> Option<String> {
    let mut plot = Plot::new();
    let cap = crew_mrv_core::MAX_CHART_SERIES;
    let more = series.len().saturating_sub(cap);
    for (plant, unit, pts) in series.iter().take(cap) {
        if pts.is_empty() {
            continue;
        }
        let x: Vec<String> = pts
            .iter()
            .map(|p| crew_mrv_core::iso_datetime(p.0, ' '))
            .collect();
        let y: Vec<f64> = pts.iter().map(|p| p.1).collect();
        plot.add_trace(
            Scatter::new(x, y)
                .mode(Mode::Lines)
                .name(format!("{plant} {unit}")),
        );
    }
    if plot.data().is_empty() {
        return None;
    }
    let note = (more > 0).then(|| format!("and {more} more units"));
    Some(finish(
        plot,
        with_more_note(base_layout("pH (readings)"), note),
    ))
    .filter(|f| !f.is_empty())
}

/// Calcium upstream vs downstream per plant.
pub fn ca_chart(days: &[&Co2Day], plants: &[String]) -> Option<String> {
    let mut plot = Plot::new();
    for (pi, p) in plants.iter().enumerate() {
        let sel: Vec<&Co2Day> = days
            .iter()
            .copied()
            .filter(|d| *d.plant_id == **p)
            .collect();
        let color = PLANT_COLORS[pi % PLANT_COLORS.len()];
        for (label, dash, get) in [
            (
                "upstream",
                plotly::common::DashType::Dot,
                (|d: &Co2Day| d.ca_upstream_mg_per_l) as fn(&Co2Day) -> Option<f64>,
            ),
            (
                "downstream",
                plotly::common::DashType::Solid,
                |d: &Co2Day| d.ca_downstream_mg_per_l,
            ),
        ] {
            let pts: Vec<(String, f64)> = sel
                .iter()
                .filter_map(|d| get(d).map(|v| (d.date.to_string(), v)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let (x, y): (Vec<String>, Vec<f64>) = pts.into_iter().unzip();
            plot.add_trace(
                Scatter::new(x, y)
                    .mode(Mode::LinesMarkers)
                    .name(format!("{p} {label}"))
                    .line(plotly::common::Line::new().color(color).dash(dash)),
            );
        }
    }
    if plot.data().is_empty() {
        return None;
    }
    Some(finish(plot, base_layout("Ca mg/L")))
}

/// Ca delta of calculated days, coloured by flag (and plant when several).
pub fn delta_chart(days: &[&Co2Day], plants: &[String]) -> Option<String> {
    calc_bars(days, plants, |c| c.ca_delta_mg_per_l, "Ca delta mg/L", None)
}

/// Effluent flow per plant with bypass flow as bars on a second axis.
pub fn flow_chart(ops: &[&PlantOperation], plants: &[String]) -> Option<String> {
    let mut plot = Plot::new();
    for (pi, p) in plants.iter().enumerate() {
        let sel: Vec<&PlantOperation> =
            ops.iter().copied().filter(|o| *o.plant_id == **p).collect();
        let color = PLANT_COLORS[pi % PLANT_COLORS.len()];
        let pts: Vec<(String, f64)> = sel
            .iter()
            .filter(|o| !o.provisional)
            .filter_map(|o| o.actual_eff_flow_mgd.map(|v| (o.date.to_string(), v)))
            .collect();
        if !pts.is_empty() {
            let (x, y): (Vec<String>, Vec<f64>) = pts.into_iter().unzip();
            plot.add_trace(
                Scatter::new(x, y)
                    .mode(Mode::Lines)
                    .name(format!("{p} effluent"))
                    .line(plotly::common::Line::new().color(color)),
            );
        }
        let by: Vec<(String, f64)> = sel
            .iter()
            .filter_map(|o| {
                o.bypass_flow_mgd
                    .filter(|b| *b > 0.0)
                    .map(|v| (o.date.to_string(), v))
            })
            .collect();
        if !by.is_empty() {
            let (x, y): (Vec<String>, Vec<f64>) = by.into_iter().unzip();
            plot.add_trace(
                Bar::new(x, y)
                    .name(format!("{p} bypass"))
                    // A day wide: left to itself Plotly sizes bars by the
                    // gap between them, and bypass days are weeks apart.
                    .width(0.8 * 86_400_000.0)
                    .y_axis("y2")
                    .marker(Marker::new().color("#d84315").opacity(0.6)),
            );
        }
    }
    if plot.data().is_empty() {
        return None;
    }
    let layout = base_layout("effluent MGD")
        // The second axis takes the right edge, where the legend would
        // cover its tick labels: the legend goes below the dates.
        .margin(Margin::new().left(60).right(55).top(10).bottom(70))
        .legend(
            Legend::new()
                .orientation(plotly::common::Orientation::Horizontal)
                .y(-0.2),
        )
        .y_axis2(
            Axis::new()
                .title(Title::with_text("bypass MGD"))
                .overlaying("y")
                .side(plotly::common::AxisSide::Right)
                .range_mode(plotly::layout::RangeMode::ToZero)
                .show_grid(false),
        );
    Some(finish(plot, layout))
}
