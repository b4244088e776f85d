//! Plotly charts. Figures are built with plotly.rs and handed to the
//! plotly.js bundle we serve ourselves (`window.Plotly`); `react` updates a
//! chart in place so zoom state survives new data.
//!
//! Issue 16: a colour means a quality flag on every chart (plants differ by
//! dash, marker or bar pattern), legends sit below the plot, every time
//! chart spans the same dates, and every axis and hover label has its
//! unit. Plotly's own toolbar is off: it covered the legend and put 43
//! buttons in the tab order. Each chart has one menu instead (a PNG with
//! title, filters and total; reset zoom) and a text summary for screen
//! readers.

use chrono::NaiveDate;
use leptos::prelude::*;
use plotly::common::{
    DashType, ErrorData, ErrorType, Line, Marker, Mode, Pattern, PatternShape, Title,
};
use plotly::configuration::DisplayModeBar;
use plotly::layout::{Annotation, Axis, AxisRange, BarMode, Layout, Margin};
use plotly::{Bar, Configuration, Plot, Scatter};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crew_mrv_core::mapping::in_unit;
use crew_mrv_core::model::{Co2Calc, Co2Day, Flag, PlantOperation, SensorDay};
use crew_mrv_core::profile::Unit;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Plotly, js_name = react)]
    fn plotly_react(el: &web_sys::HtmlElement, figure: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Plotly, js_name = purge)]
    fn plotly_purge(el: &web_sys::HtmlElement) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Plotly, js_name = relayout)]
    fn plotly_relayout(el: &web_sys::HtmlElement, update: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Plotly, js_name = toImage)]
    fn plotly_to_image(figure: &JsValue, opts: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// The size of a downloaded chart: wide enough for a slide or a report.
const PNG_SIZE: (u32, u32) = (1400, 700);

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

/// V8 compiles plotly.js function by function as it first runs, so a
/// report's first chart took 130–170 ms to draw against 40 ms for the
/// next. Called once the page is idle after start: one small figure of the
/// dashboard's kinds (grouped bars with patterns and error bars, lines, a
/// date axis, the legend below) is drawn off-screen and removed.
pub fn warm_up() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (Some(body), Ok(el)) = (doc.body(), doc.create_element("div")) else {
        return;
    };
    let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() else {
        return;
    };
    // Laid out (Plotly measures it) but never seen or read aloud.
    let _ = el.set_attribute(
        "style",
        "position:fixed;left:-10000px;top:0;width:640px;height:360px;visibility:hidden",
    );
    let _ = el.set_attribute("aria-hidden", "true");
    if !plotly_loaded() || body.append_child(&el).is_err() {
        return;
    }
    let days: Vec<String> = (1..=14).map(|d| format!("2025-01-{d:02}")).collect();
    let mut plot = Plot::new();
    for (i, f) in [Flag::Valid, Flag::Invalid].into_iter().enumerate() {
        let y: Vec<f64> = (0..days.len()).map(|d| (d + i) as f64 * 0.1).collect();
        plot.add_trace(
            Bar::new(days.clone(), y.clone())
                .name(f.words())
                .hover_template(hover("t CO2/day", 3))
                .marker(
                    Marker::new().color(flag_color(f)).pattern(
                        Pattern::new()
                            .shape(plant_pattern(i))
                            .foreground_color("#ffffff"),
                    ),
                )
                .error_y(ErrorData::new(ErrorType::Data).array(y).width(2)),
        );
    }
    plot.add_trace(series_line(
        days.clone(),
        vec![7.0; days.len()],
        "pH".into(),
        0,
        1,
    ));
    let span = NaiveDate::from_ymd_opt(2025, 1, 1).zip(NaiveDate::from_ymd_opt(2025, 1, 14));
    let figure = finish(plot, base_layout("warm-up", span).bar_mode(BarMode::Group));
    // Plotly finishes a first draw in later tasks (automatic margins):
    // the element is purged and removed well after.
    if render(&el, &figure).is_ok() {
        set_timeout(
            move || {
                let _ = plotly_purge(&el);
                el.remove();
            },
            std::time::Duration::from_secs(5),
        );
    } else {
        el.remove();
    }
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

/// What a screen reader hears of a figure: the dates (or bars) it covers
/// and its highest and lowest point, with units (the picture itself is
/// `role=img`).
fn summarize(figure: &serde_json::Value, unit: &str) -> String {
    // (label, value, series): a dated point, or a horizontal bar's category.
    let mut points: Vec<(String, f64, &str)> = Vec::new();
    let mut dated = true;
    let traces = figure
        .get("data")
        .and_then(|d| d.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    for t in traces {
        let name = t.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let xs = t.get("x").and_then(|x| x.as_array());
        let ys = t.get("y").and_then(|y| y.as_array());
        let (Some(xs), Some(ys)) = (xs, ys) else {
            continue;
        };
        for (x, y) in xs.iter().zip(ys) {
            match (x.as_str(), y.as_f64(), x.as_f64(), y.as_str()) {
                (Some(x), Some(y), _, _) => points.push((x.to_string(), y, name)),
                (_, _, Some(x), Some(y)) => {
                    dated = false;
                    points.push((y.to_string(), x, name));
                }
                _ => {}
            }
        }
    }
    let hi = points.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let lo = points.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let (Some(hi), Some(lo)) = (hi, lo) else {
        return "No data for the current filters.".into();
    };
    // Trace names are escaped for Plotly; the page shows text as text.
    let plain = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let n = points.len();
    let covers = if dated {
        let first = points.iter().map(|p| p.0.as_str()).min().unwrap_or("");
        let last = points.iter().map(|p| p.0.as_str()).max().unwrap_or("");
        format!("{n} points from {first} to {last}")
    } else {
        format!("{n} bars")
    };
    format!(
        "{covers}; highest {:.3} {unit} at {} ({}); lowest {:.3} {unit} at {} ({}).",
        hi.1,
        plain(&hi.0),
        plain(hi.2),
        lo.1,
        plain(&lo.0),
        plain(lo.2)
    )
}

/// The chart as a picture to share: its title, the filters and the total
/// written above the plot, at a useful size.
fn png_figure(figure: &str, heading: &[String]) -> Option<JsValue> {
    let mut v: serde_json::Value = serde_json::from_str(figure).ok()?;
    let layout = v.get_mut("layout")?.as_object_mut()?;
    // Each part may hold a file's plant names: escaped before the markup
    // that joins them.
    let text = heading
        .iter()
        .map(|h| crew_mrv_core::chart_text(h))
        .collect::<Vec<_>>();
    let title = match text.split_first() {
        Some((t, [])) => format!("<b>{t}</b>"),
        Some((t, rest)) => format!("<b>{t}</b><br><sup>{}</sup>", rest.join(" · ")),
        None => String::new(),
    };
    layout.insert(
        "title".into(),
        serde_json::json!({ "text": title, "x": 0.01, "xanchor": "left", "font": { "size": 20 } }),
    );
    layout.insert(
        "margin".into(),
        serde_json::json!({ "l": 80, "r": 60, "t": 100, "b": 60 }),
    );
    layout.insert("width".into(), PNG_SIZE.0.into());
    layout.insert("height".into(), PNG_SIZE.1.into());
    js_sys::JSON::parse(&v.to_string()).ok()
}

/// `crew-mrv-co2-2025-04-01-to-2025-06-30.png`: what and which days.
fn png_name(testid: &str, figure: &serde_json::Value) -> String {
    let what = testid.trim_start_matches("chart-");
    let range = figure
        .pointer("/layout/xaxis/range")
        .and_then(|r| r.as_array())
        .and_then(|r| Some((r.first()?.as_str()?, r.get(1)?.as_str()?)))
        .map(|(a, b)| {
            let day = |s: &str| s.get(..10).unwrap_or(s).to_string();
            // `base_layout` starts the axis at noon of the day before the
            // first: the name gives the first day itself.
            let first = NaiveDate::parse_from_str(&day(a), "%Y-%m-%d")
                .ok()
                .filter(|_| a.ends_with(" 12:00"))
                .and_then(|d| d.succ_opt())
                .map_or_else(|| day(a), |d| d.to_string());
            format!("-{first}-to-{}", day(b))
        })
        .unwrap_or_default();
    format!("crew-mrv-{what}{range}.png")
}

/// Render `figure` as a PNG and offer it as a download.
fn download_png(
    figure: String,
    heading: Vec<String>,
    testid: &'static str,
    error: RwSignal<Option<String>>,
) {
    let Some(obj) = png_figure(&figure, &heading) else {
        return;
    };
    let name = serde_json::from_str::<serde_json::Value>(&figure)
        .map(|v| png_name(testid, &v))
        .unwrap_or_else(|_| format!("crew-mrv-{testid}.png"));
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"format".into(), &"png".into());
    let _ = js_sys::Reflect::set(&opts, &"width".into(), &PNG_SIZE.0.into());
    let _ = js_sys::Reflect::set(&opts, &"height".into(), &PNG_SIZE.1.into());
    let promise = match plotly_to_image(&obj, &opts) {
        Ok(p) => p,
        Err(e) => {
            error.set(Some(format!("The picture could not be made: {e:?}")));
            return;
        }
    };
    leptos::task::spawn_local(async move {
        let url = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()
            .and_then(|u| u.as_string());
        // A data: URL; the page's CSP lets it be read only as an image, so
        // its base64 is decoded here rather than fetched.
        let bytes = url.as_deref().and_then(|u| {
            let b64 = u.split_once(',')?.1;
            let bin = web_sys::window()?.atob(b64).ok()?;
            bin.chars()
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect::<Option<Vec<u8>>>()
        });
        let result = match bytes {
            Some(b) => super::browser::download(&name, &b, "image/png"),
            None => Err("the chart could not be drawn as a picture".into()),
        };
        let _ = error.try_set(result.err());
    });
}

/// Chart draws waiting, in the order their charts asked (the page's
/// order: the CO2 chart first), and whether a draw is scheduled.
type Draws = std::cell::RefCell<(std::collections::VecDeque<Box<dyn FnOnce()>>, bool)>;

thread_local! {
    static DRAWS: Draws = Draws::default();
}

/// Draw charts one per frame: each in a task of its own after the page has
/// updated (five Plotly renders in one task would block input), and each
/// painted before the next starts, so the first chart is on screen without
/// waiting for the ones beside and below it (40–90 ms each).
fn queue_draw(draw: Box<dyn FnOnce()>) {
    let start = DRAWS.with(|d| {
        let mut d = d.borrow_mut();
        d.0.push_back(draw);
        !std::mem::replace(&mut d.1, true)
    });
    if start {
        let cb = Closure::once_into_js(draw_next);
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 0);
        }
    }
}

fn draw_next() {
    let next = DRAWS.with(|d| d.borrow_mut().0.pop_front());
    let Some(draw) = next else {
        DRAWS.with(|d| d.borrow_mut().1 = false);
        return;
    };
    draw();
    if DRAWS.with(|d| d.borrow().0.is_empty()) {
        DRAWS.with(|d| d.borrow_mut().1 = false);
        return;
    }
    after_paint(draw_next);
}

/// Run `f` once the browser has painted: in a task after the next
/// animation frame, or after 100 ms where frames do not come (a hidden
/// tab), whichever is first.
fn after_paint(f: fn()) {
    let Some(w) = web_sys::window() else {
        return f();
    };
    let done = std::rc::Rc::new(std::cell::Cell::new(false));
    let once = {
        let done = done.clone();
        move || {
            if !done.replace(true) {
                f();
            }
        }
    };
    let fallback = once.clone();
    let frame = Closure::once_into_js(move || {
        let task = Closure::once_into_js(once);
        if let Some(w) = web_sys::window() {
            let _ =
                w.set_timeout_with_callback_and_timeout_and_arguments_0(task.unchecked_ref(), 0);
        }
    });
    if w.request_animation_frame(frame.unchecked_ref()).is_err() {
        return fallback();
    }
    let late = Closure::once_into_js(fallback);
    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(late.unchecked_ref(), 100);
}

/// A chart that redraws when its figure changes.
#[component]
pub fn Chart(
    #[prop(into)] plot: Signal<Option<String>>,
    #[prop(into)] title: Signal<&'static str>,
    testid: &'static str,
    /// The unit of the y values, for the text summary ("t CO2/day").
    #[prop(into)]
    unit: Signal<&'static str>,
    /// The filters and total behind the chart, said in its summary and
    /// written on its PNG.
    #[prop(optional, into)]
    context: Option<Signal<Vec<String>>>,
    /// Told the x range whenever the user zooms (None: zoomed out).
    #[prop(optional)]
    zoomed: Option<Callback<Option<(String, String)>>>,
    /// What the chart shows right now, beside the title (and as `data-note`).
    #[prop(optional, into)]
    note: Option<Signal<Option<&'static str>>>,
) -> impl IntoView {
    let note = move || note.and_then(|n| n.get());
    let context = move || context.map(|c| c.get()).unwrap_or_default();
    let node = NodeRef::<leptos::html::Div>::new();
    let error = RwSignal::new(None::<String>);
    let listening = StoredValue::new(false);
    let latest = StoredValue::new(None::<String>);
    let pending = StoredValue::new(false);
    let summary = RwSignal::new(String::from("Drawn when scrolled into view."));
    // Drawn through `queue_draw`, one chart per frame.
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
        summary.set(
            figure
                .as_deref()
                .and_then(|f| serde_json::from_str(f).ok())
                .map(|v| summarize(&v, unit.get_untracked()))
                .unwrap_or_else(|| "No data for the current filters.".into()),
        );
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
            queue_draw(Box::new(draw));
        }
    });
    let menu = NodeRef::<leptos::html::Details>::new();
    let close_menu = move || {
        if let Some(m) = menu.get_untracked() {
            m.set_open(false);
        }
    };
    let on_png = move |_| {
        close_menu();
        if let Some(figure) = latest.get_value() {
            let mut heading = vec![title.get_untracked().to_string()];
            heading.extend(context());
            download_png(figure, heading, testid, error);
        }
    };
    let on_reset = move |_| {
        close_menu();
        if let Some(el) = node.get_untracked() {
            if plotly_loaded() {
                // Back to the figure's own dates (the span every chart
                // shares), or to the data's when it sets none.
                let range = latest
                    .get_value()
                    .and_then(|f| serde_json::from_str::<serde_json::Value>(&f).ok())
                    .and_then(|v| v.pointer("/layout/xaxis/range").map(|r| r.to_string()))
                    .and_then(|r| js_sys::JSON::parse(&r).ok());
                let update = js_sys::Object::new();
                let _ = match range {
                    Some(r) => js_sys::Reflect::set(&update, &"xaxis.range".into(), &r),
                    None => js_sys::Reflect::set(&update, &"xaxis.autorange".into(), &true.into()),
                };
                let _ = js_sys::Reflect::set(&update, &"yaxis.autorange".into(), &true.into());
                let _ = plotly_relayout(&el, &update);
            }
        }
    };
    let summary_id = format!("{testid}-summary");
    view! {
        <figure class="chart" data-testid=testid data-note=move || note().unwrap_or("")>
            <figcaption>
                <span class="chart-title">
                    {move || title.get()}
                    {move || note().map(|n| view! { <span class="chart-note">{format!(" · {n}")}</span> })}
                </span>
                <details class="chart-menu no-print" node_ref=menu>
                    <summary data-testid="chart-menu" aria-label=move || format!("{}: download or reset zoom", title.get())>"⋯"</summary>
                    <div class="chart-menu-items">
                        <button type="button" class="button small" data-testid="chart-png" on:click=on_png>"Download PNG"</button>
                        <button type="button" class="button small" data-testid="chart-reset" on:click=on_reset>"Reset zoom"</button>
                    </div>
                </details>
            </figcaption>
            {move || empty.get().then(|| view! { <p class="muted">"No data for the current filters."</p> })}
            <div class="plot" node_ref=node aria-label=move || title.get() role="img" aria-describedby=summary_id.clone()></div>
            <p class="visually-hidden" id=summary_id data-testid="chart-summary">
                {move || {
                    let mut parts = context();
                    parts.push(summary.get());
                    parts.join(". ")
                }}
            </p>
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
        </figure>
    }
}

/// The one colour of each quality flag, in the filters, the KPIs, the
/// table and every chart.
pub fn flag_color(f: Flag) -> &'static str {
    match f {
        Flag::Valid => "#2e7d32",
        Flag::Invalid => "#c62828",
        Flag::MissingCaReadings => "#f9a825",
        Flag::InvalidFlow => "#6a1b9a",
        Flag::NoOpsData => "#757575",
    }
}

/// Colours of series that are not flags (pH units, upstream/downstream,
/// cumulative totals): blues, teal, brown and black, none near a flag's.
pub(super) const SERIES_COLORS: [&str; 6] = [
    "#1565c0", "#00838f", "#283593", "#4e342e", "#039be5", "#212121",
];

/// How a plant is told apart on a chart whose colours mean something else:
/// its line's dash, its bars' pattern. (Not marker symbols: plotly.rs's
/// symbol type would add kilobytes of names to the page's wasm.)
pub(super) fn plant_dash(i: usize) -> DashType {
    const DASHES: [DashType; 6] = [
        DashType::Solid,
        DashType::Dash,
        DashType::Dot,
        DashType::DashDot,
        DashType::LongDash,
        DashType::LongDashDot,
    ];
    DASHES[i % DASHES.len()].clone()
}

fn plant_pattern(i: usize) -> PatternShape {
    const SHAPES: [PatternShape; 6] = [
        PatternShape::None,
        PatternShape::RightDiagonalLine,
        PatternShape::DiagonalCross,
        PatternShape::Dot,
        PatternShape::LeftDiagonalLine,
        PatternShape::HorizontalLine,
    ];
    SHAPES[i % SHAPES.len()].clone()
}

/// A hover label with the series, the day and the value with its unit.
/// The series name is Plotly's (`fullData.name`, escaped with the other
/// labels) rather than pasted into the template.
pub(super) fn hover(unit: &str, digits: usize) -> String {
    format!("%{{fullData.name}}<br>%{{x}}: %{{y:.{digits}f}} {unit}<extra></extra>")
}

/// The dates every time chart spans: the filter's range, or the loaded
/// days when the filter leaves a side open.
pub type Span = Option<(NaiveDate, NaiveDate)>;

pub(super) fn base_layout(y: &str, span: Span) -> Layout {
    let mut x = Axis::new().type_(plotly::layout::AxisType::Date);
    if let Some((a, b)) = span {
        // Half a day either side, so the first and last days' bars show
        // whole and every chart's days line up.
        x = x.range(AxisRange::new(
            format!("{} 12:00", a.pred_opt().unwrap_or(a)),
            format!("{b} 12:00"),
        ));
    }
    Layout::new()
        .margin(Margin::new().left(60).right(20).top(10).bottom(40))
        .height(360)
        .y_axis(Axis::new().title(Title::with_text(y)))
        .x_axis(x)
}

/// The figure as plotly JSON: plotly.rs types are not `Send`, so signals
/// carry the JSON. A constant `uirevision` keeps the user's zoom when the
/// data under a chart changes. Labels come from users' files (plant and
/// unit ids), and Plotly reads markup in labels: every one is escaped.
/// Every chart's legend goes below its plot (on a phone a legend at the
/// side took half the width), and Plotly's toolbar is off (the chart's
/// menu has its functions).
pub(super) fn finish(mut plot: Plot, layout: Layout) -> String {
    plot.set_layout(layout);
    plot.set_configuration(
        Configuration::new()
            .responsive(true)
            .display_logo(false)
            .display_mode_bar(DisplayModeBar::False),
    );
    let json = plot.to_json();
    match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(mut v) => {
            crew_mrv_core::escape_chart_labels(&mut v);
            if let Some(l) = v.get_mut("layout").and_then(|l| l.as_object_mut()) {
                l.insert("uirevision".into(), serde_json::Value::from("keep"));
                l.insert(
                    "legend".into(),
                    serde_json::json!({
                        "orientation": "h", "x": 0, "xanchor": "left",
                        "y": -0.12, "yanchor": "top"
                    }),
                );
                if let Some(x) = l.get_mut("xaxis").and_then(|x| x.as_object_mut()) {
                    x.insert("automargin".into(), true.into());
                }
                // Plotly's default for a date or number axis measures every
                // tick label to hide those past the chart's edge (8 ms a
                // chart); the automatic margins keep them inside already.
                for axis in ["xaxis", "yaxis"] {
                    if let Some(a) = l.get_mut(axis).and_then(|a| a.as_object_mut()) {
                        a.insert("ticklabeloverflow".into(), "allow".into());
                    }
                }
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

/// Bars of one computed quantity per day, a trace per flag and plant: the
/// flag gives the colour, the plant the bar's pattern.
fn calc_bars(
    days: &[&Co2Day],
    plants: &[String],
    span: Span,
    value: fn(&Co2Calc) -> f64,
    (y_title, unit): (&str, &str),
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
                format!("{p} {}", f.words())
            } else {
                f.words().to_string()
            };
            let mut bar = Bar::new(dates(&sel), y)
                .name(name)
                .hover_template(hover(unit, 3))
                .marker(
                    Marker::new().color(flag_color(f)).pattern(
                        Pattern::new()
                            .shape(plant_pattern(pi))
                            .foreground_color("#ffffff"),
                    ),
                );
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
    Some(finish(
        plot,
        base_layout(y_title, span).bar_mode(BarMode::Group),
    ))
}

/// Daily CO2 removed, one trace per flag (and plant when several), with
/// each calculated day's ± 1 σ.
pub fn co2_chart(days: &[&Co2Day], plants: &[String], span: Span) -> Option<String> {
    calc_bars(
        days,
        plants,
        span,
        |c| c.co2_removed_metric_tons_per_day,
        ("CO2 removed (t CO2/day)", "t CO2/day"),
        Some(|d| d.sigma.calc.map(|s| s.co2_t)),
    )
}

/// A line per series, its colour from `SERIES_COLORS`, its plant's dash.
fn series_line(
    x: Vec<String>,
    y: Vec<f64>,
    name: String,
    color: usize,
    plant: usize,
) -> Box<Scatter<String, f64>> {
    Scatter::new(x, y).mode(Mode::Lines).name(name).line(
        Line::new()
            .color(SERIES_COLORS[color % SERIES_COLORS.len()])
            .dash(plant_dash(plant)),
    )
}

/// The index of `plant` among those charted, for its dash.
fn plant_index(plants: &[&str], plant: &str) -> usize {
    plants.iter().position(|p| *p == plant).unwrap_or(0)
}

/// Daily mean pH per plant unit, at most the core's cap of units.
pub fn ph_chart(series: &[&SensorDay], span: Span) -> Option<String> {
    let mut plot = Plot::new();
    let keys = crew_mrv_core::chart_series(series.iter().copied());
    let mut plants: Vec<&str> = keys.shown.iter().map(|(p, _)| &**p).collect();
    plants.dedup();
    for (i, (plant, unit)) in keys.shown.iter().enumerate() {
        let sel: Vec<&&SensorDay> = series
            .iter()
            .filter(|s| s.plant_id == *plant && s.plant_unit_id == *unit)
            .collect();
        let x: Vec<String> = sel.iter().map(|s| s.date.to_string()).collect();
        let y: Vec<f64> = sel.iter().map(|s| s.mean).collect();
        plot.add_trace(
            series_line(
                x,
                y,
                format!("{plant} {unit}"),
                i,
                plant_index(&plants, plant),
            )
            .hover_template(hover("pH", 2)),
        );
    }
    if plot.data().is_empty() {
        return None;
    }
    let layout = with_more_note(
        base_layout("daily mean pH (pH units)", span),
        keys.more_text("units"),
    );
    Some(finish(plot, layout)).filter(|f| !f.is_empty())
}

/// One plant unit's readings: plant, unit, (time, value) points.
pub type SeriesPoints = (String, String, Vec<(chrono::NaiveDateTime, f64)>);

/// Sensor readings at full (or bucketed) resolution for a zoomed range.
pub fn ph_detail_chart(series: &[SeriesPoints]) -> Option<String> {
    let mut plot = Plot::new();
    let cap = crew_mrv_core::MAX_CHART_SERIES;
    let more = series.len().saturating_sub(cap);
    let mut plants: Vec<&str> = series.iter().map(|(p, _, _)| p.as_str()).collect();
    plants.dedup();
    for (i, (plant, unit, pts)) in series.iter().take(cap).enumerate() {
        if pts.is_empty() {
            continue;
        }
        let x: Vec<String> = pts
            .iter()
            .map(|p| crew_mrv_core::iso_datetime(p.0, ' '))
            .collect();
        let y: Vec<f64> = pts.iter().map(|p| p.1).collect();
        plot.add_trace(
            series_line(
                x,
                y,
                format!("{plant} {unit}"),
                i,
                plant_index(&plants, plant),
            )
            .hover_template(hover("pH", 2)),
        );
    }
    if plot.data().is_empty() {
        return None;
    }
    let note = (more > 0).then(|| format!("and {more} more units"));
    Some(finish(
        plot,
        with_more_note(base_layout("pH readings (pH units)", None), note),
    ))
    .filter(|f| !f.is_empty())
}

/// Calcium upstream vs downstream per plant: the position is the colour,
/// the plant the dash.
pub fn ca_chart(days: &[&Co2Day], plants: &[String], span: Span) -> Option<String> {
    let mut plot = Plot::new();
    for (pi, p) in plants.iter().enumerate() {
        let sel: Vec<&Co2Day> = days
            .iter()
            .copied()
            .filter(|d| *d.plant_id == **p)
            .collect();
        for (label, color, get) in [
            (
                "upstream",
                SERIES_COLORS[0],
                (|d: &Co2Day| d.ca_upstream_mg_per_l) as fn(&Co2Day) -> Option<f64>,
            ),
            ("downstream", SERIES_COLORS[3], |d: &Co2Day| {
                d.ca_downstream_mg_per_l
            }),
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
                    .hover_template(hover("mg/L", 2))
                    .marker(Marker::new().color(color))
                    .line(Line::new().color(color).dash(plant_dash(pi))),
            );
        }
    }
    if plot.data().is_empty() {
        return None;
    }
    Some(finish(plot, base_layout("calcium (mg/L)", span)))
}

/// Ca delta of calculated days, coloured by flag, patterned by plant.
pub fn delta_chart(days: &[&Co2Day], plants: &[String], span: Span) -> Option<String> {
    calc_bars(
        days,
        plants,
        span,
        |c| c.ca_delta_mg_per_l,
        ("Δ calcium (mg/L)", "mg/L"),
        None,
    )
}

/// The unit the flow chart draws in: the plants' own when they share one
/// (PROFILES.md: flows keep the unit they were read in), else m³/day, the
/// unit METHOD §4 starts from.
pub fn flow_unit(ops: &[&PlantOperation], plants: &[String]) -> Unit {
    let mut units = plants.iter().filter_map(|p| {
        let mut rows = ops.iter().filter(|o| *o.plant_id == **p).peekable();
        rows.peek()?;
        Some(rows.find_map(|o| o.flow_unit).unwrap_or(Unit::Mgd))
    });
    let first = units.next().unwrap_or(Unit::Mgd);
    if units.all(|u| u == first) {
        first
    } else {
        Unit::M3PerDay
    }
}

/// A flow unit as the page writes it.
pub fn flow_unit_label(u: Unit) -> &'static str {
    match u {
        Unit::M3PerDay => "m³/d",
        Unit::MlPerDay => "ML/d",
        _ => "MGD",
    }
}

/// Effluent flow per plant with bypass flow as bars on a second axis, in
/// `unit` (see [`flow_unit`]).
pub fn flow_chart(
    ops: &[&PlantOperation],
    plants: &[String],
    span: Span,
    unit: Unit,
) -> Option<String> {
    let label = flow_unit_label(unit);
    // The effluent as read when the chart is in m³/day or ML/day, so a
    // metric plant's values are its own, not a round trip through MGD.
    let effluent = |o: &PlantOperation| match (unit, o.actual_eff_flow_m3_per_day) {
        (Unit::M3PerDay, Some(m3)) => Some(m3),
        (Unit::MlPerDay, Some(m3)) => Some(m3 / 1000.0),
        _ => o.actual_eff_flow_mgd.map(|v| in_unit(v, unit)),
    };
    let mut plot = Plot::new();
    for (pi, p) in plants.iter().enumerate() {
        let sel: Vec<&PlantOperation> =
            ops.iter().copied().filter(|o| *o.plant_id == **p).collect();
        let pts: Vec<(String, f64)> = sel
            .iter()
            .filter(|o| !o.provisional)
            .filter_map(|o| effluent(o).map(|v| (o.date.to_string(), v)))
            .collect();
        if !pts.is_empty() {
            let (x, y): (Vec<String>, Vec<f64>) = pts.into_iter().unzip();
            plot.add_trace(
                series_line(x, y, format!("{p} effluent"), 0, pi).hover_template(hover(label, 3)),
            );
        }
        let by: Vec<(String, f64)> = sel
            .iter()
            .filter_map(|o| {
                o.bypass_flow_mgd
                    .filter(|b| *b > 0.0)
                    .map(|v| (o.date.to_string(), in_unit(v, unit)))
            })
            .collect();
        if !by.is_empty() {
            let (x, y): (Vec<String>, Vec<f64>) = by.into_iter().unzip();
            plot.add_trace(
                Bar::new(x, y)
                    .name(format!("{p} bypass"))
                    .hover_template(hover(&format!("{label} bypass"), 3))
                    // A day wide: left to itself Plotly sizes bars by the
                    // gap between them, and bypass days are weeks apart.
                    .width(0.8 * 86_400_000.0)
                    .y_axis("y2")
                    .marker(
                        Marker::new()
                            .color(SERIES_COLORS[3])
                            .opacity(0.6)
                            .pattern(Pattern::new().shape(plant_pattern(pi))),
                    ),
            );
        }
    }
    if plot.data().is_empty() {
        return None;
    }
    let layout = base_layout(&format!("effluent flow ({label})"), span)
        .margin(Margin::new().left(60).right(55).top(10).bottom(40))
        .y_axis2(
            Axis::new()
                .title(Title::with_text(format!("bypass flow ({label})")))
                .overlaying("y")
                .side(plotly::common::AxisSide::Right)
                .range_mode(plotly::layout::RangeMode::ToZero)
                .show_grid(false),
        );
    Some(finish(plot, layout))
}
