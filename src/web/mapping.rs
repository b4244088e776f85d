//! The mapping view and the Profiles list (issue #13, PROFILES.md
//! "Proposing a profile"). A workbook or CSV that no profile reads opens
//! the view: the worker proposes the choices and reads the file with them
//! (`crew_mrv_core::mapping`); the page only shows its answer and sends
//! back what the user changed. A saved profile becomes one more dropped
//! input (hashed, listed in files.csv, read before the others), is offered
//! as a `.toml` download, and is kept in this browser's localStorage,
//! joining the files of every later visit.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{bridge, browser, Input, Session};
use crew_mrv_core::mapping::{FieldChoice, Mapping, MappingView, DATE_FORMATS, MAX_HEADER_ROWS};
use crew_mrv_core::profile::{Field, Unit};
use crew_mrv_core::FileErrorKind;
use crew_mrv_protocol::{Reply, Request};

const STORE_KEY: &str = "crew-mrv-profiles";

/// A profile kept in this browser.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Stored {
    pub plant_id: String,
    pub toml: String,
}

impl Stored {
    /// The name it enters a run under (`.toml`: the worker reads it first).
    pub fn file_name(&self) -> String {
        format!("{} profile (in this browser).toml", self.plant_id)
    }

    fn download_name(&self) -> String {
        format!("{}-profile.toml", self.plant_id)
    }

    fn input(&self) -> Option<Input> {
        let array = js_sys::Uint8Array::from(self.toml.as_bytes());
        let parts = js_sys::Array::of1(&array);
        web_sys::File::new_with_u8_array_sequence(&parts, &self.file_name())
            .ok()
            .map(Input::Picked)
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The profiles kept in this browser; none when storage is unavailable or
/// holds something else.
pub fn load() -> Vec<Stored> {
    let pairs: Vec<(String, String)> = storage()
        .and_then(|s| s.get_item(STORE_KEY).ok().flatten())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    pairs
        .into_iter()
        .map(|(plant_id, toml)| Stored { plant_id, toml })
        .collect()
}

fn save(list: &[Stored]) {
    let pairs: Vec<(&str, &str)> = list
        .iter()
        .map(|p| (p.plant_id.as_str(), p.toml.as_str()))
        .collect();
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(&pairs)) {
        let _ = s.set_item(STORE_KEY, &text);
    }
}

/// The kept profiles not yet among the run's files nor among `inputs`:
/// they join a batch as if dropped with it.
pub fn inputs_missing(s: Session, stored: &[Stored], inputs: &[Input]) -> Vec<Input> {
    let names: Vec<String> = s.report.with_untracked(|r| {
        r.iter()
            .flat_map(|r| r.files.iter().map(|f| f.name.to_string()))
            .chain(inputs.iter().map(Input::name))
            .collect()
    });
    stored
        .iter()
        .filter(|p| !names.contains(&p.file_name()))
        .filter_map(Stored::input)
        .collect()
}

/// The mapping view's state, shared by the root (which opens it when a
/// file no profile reads arrives) and the Files tab.
#[derive(Clone, Copy)]
pub struct MappingState {
    pub view: RwSignal<Option<MappingView>>,
    /// Why the worker gave no view.
    pub failed: RwSignal<Option<String>>,
    /// Files the user closed the view of: (name, sha256).
    pub dismissed: RwSignal<Vec<(String, String)>>,
    pub stored: RwSignal<Vec<Stored>>,
}

impl MappingState {
    pub fn new() -> MappingState {
        MappingState {
            view: RwSignal::new(None),
            failed: RwSignal::new(None),
            dismissed: RwSignal::new(Vec::new()),
            stored: RwSignal::new(load()),
        }
    }
}

/// A file of the run that no profile reads: (name, sha256).
pub fn unmapped(s: Session) -> Vec<(String, String)> {
    s.report.with_untracked(|r| {
        r.iter()
            .flat_map(|r| r.files.iter())
            .filter(|f| {
                matches!(
                    f.error.as_ref().map(|e| &e.kind),
                    Some(
                        FileErrorKind::UnrecognisedWorkbook { .. }
                            | FileErrorKind::UnrecognisedCsv { .. }
                    )
                )
            })
            .map(|f| (f.name.to_string(), f.sha256.clone()))
            .collect()
    })
}

fn answer(state: MappingState, req: Request) {
    let reply = bridge::call(req, &js_sys::Array::new());
    spawn_local(async move {
        match reply.await {
            Ok(bridge::Answered {
                reply: Reply::Mapping(v),
                ..
            }) => {
                // The view is drawn anew: the control the user was on
                // gets the focus back.
                let focused = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element())
                    .map(|e| e.id())
                    .filter(|id| id.starts_with("map-"));
                state.failed.set(None);
                state.view.set(Some(*v));
                if let Some(id) = focused {
                    refocus(id);
                }
            }
            Ok(bridge::Answered {
                reply: Reply::Failed(why),
                ..
            }) => state.failed.set(Some(why)),
            Ok(_) => {}
            Err(e) => state.failed.set(Some(e.to_string())),
        }
    });
}

fn refocus(id: String) {
    use wasm_bindgen::JsCast;
    let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
        let el = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = el {
            let _ = el.focus();
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 0);
    }
}

/// Open the view of one file: the worker proposes.
pub fn open(state: MappingState, name: String, sha256: String) {
    answer(
        state,
        Request::SuggestProfile {
            name,
            sha256,
            sheet: None,
            header_row: None,
        },
    );
}

/// After a report: close a view whose file is now read (or gone), and
/// open one for the first file no profile reads that the user did not
/// close.
pub fn follow(s: Session, state: MappingState) {
    let open_files = unmapped(s);
    let current = state
        .view
        .with_untracked(|v| v.as_ref().map(|v| (v.file.clone(), v.sha256.clone())));
    match current {
        Some(k) if open_files.contains(&k) => {}
        Some(_) => state.view.set(None),
        None => {
            let dismissed = state.dismissed.get_untracked();
            if let Some((n, h)) = open_files.into_iter().find(|k| !dismissed.contains(k)) {
                open(state, n, h);
            }
        }
    }
}

/// Send the changed choices; the worker answers with what they read.
fn check(state: MappingState, change: impl FnOnce(&mut Mapping)) {
    let Some(v) = state.view.get_untracked() else {
        return;
    };
    let mut mapping = v.mapping.clone();
    change(&mut mapping);
    answer(
        state,
        Request::CheckProfile {
            name: v.file,
            sha256: v.sha256,
            mapping,
        },
    );
}

/// Keep the profile in this browser and add it to the run's inputs
/// (replacing an earlier one of the same plant).
fn save_profile(s: Session, state: MappingState, p: Stored) {
    let old: Vec<(String, String)> = s.report.with_untracked(|r| {
        r.iter()
            .flat_map(|r| r.files.iter())
            .filter(|f| *f.name == *p.file_name())
            .map(|f| (f.name.to_string(), f.sha256.clone()))
            .collect()
    });
    for (n, h) in old {
        s.remove_file(n, h);
    }
    state.stored.update(|list| {
        list.retain(|x| x.plant_id != p.plant_id);
        list.push(p.clone());
        save(list);
    });
    state.view.set(None);
    if let Some(i) = p.input() {
        super::ingest(s, vec![i]);
    }
}

fn delete_profile(s: Session, state: MappingState, plant_id: &str) {
    let name = format!("{plant_id} profile (in this browser).toml");
    state.stored.update(|list| {
        list.retain(|x| x.plant_id != plant_id);
        save(list);
    });
    let kept: Vec<String> = s.report.with_untracked(|r| {
        r.iter()
            .flat_map(|r| r.files.iter())
            .filter(|f| *f.name == *name)
            .map(|f| f.sha256.clone())
            .collect()
    });
    for h in kept {
        s.remove_file(name.clone(), h);
    }
}

fn download(s: Session, p: &Stored) {
    if let Err(e) = browser::download(&p.download_name(), p.toml.as_bytes(), "application/toml") {
        s.notice.set(Some(format!("Download failed: {e}")));
    }
}

fn units_for(field: Field) -> &'static [Unit] {
    match field {
        Field::BypassHours => &[Unit::Hours],
        Field::Precipitation => &[Unit::Mm, Unit::Inch],
        _ => &[Unit::Mgd, Unit::M3PerDay, Unit::MlPerDay],
    }
}

fn unit_label(u: Unit) -> &'static str {
    match u {
        Unit::Mgd => "MGD",
        Unit::M3PerDay => "m³/d",
        Unit::MlPerDay => "ML/d",
        Unit::Inch => "in",
        Unit::Mm => "mm",
        Unit::Hours => "hours",
    }
}

fn field_label(f: Field) -> &'static str {
    match f {
        Field::EffluentFlow => "Effluent flow (required)",
        Field::InfluentFlow => "Influent flow",
        Field::MaxEffluentFlow => "Peak effluent flow",
        Field::MinEffluentFlow => "Minimum effluent flow",
        Field::BypassFlow => "Bypass flow",
        Field::BypassHours => "Bypass hours",
        Field::Precipitation => "Precipitation",
    }
}

fn value_text(v: Option<f64>) -> String {
    v.map(|v| {
        let t = format!("{v:.3}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    })
    .unwrap_or_else(|| "—".into())
}

/// One field's column and unit.
#[component]
fn FieldRow(state: MappingState, choice: FieldChoice) -> impl IntoView {
    let field = choice.field;
    let id = format!("map-{}", field.as_str());
    let unit_id = format!("map-{}-unit", field.as_str());
    let options = move || {
        state.view.with(|v| {
            v.as_ref()
                .map(|v| {
                    (0..v.headers.len() as u32)
                        .filter(|c| v.headers.get(*c as usize).is_some_and(|h| !h.is_empty()))
                        .map(|c| (c, v.column_label(c)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let selected = choice.column;
    let unit = choice.unit;
    let units = units_for(field);
    view! {
        <tr data-testid="map-field" data-field=field.as_str()>
            <th scope="row"><label for=id.clone()>{field_label(field)}</label></th>
            <td>
                <select id=id data-testid=format!("map-col-{}", field.as_str())
                    on:change=move |ev| {
                        let col = event_target_value(&ev).parse::<u32>().ok();
                        check(state, |m| {
                            if let Some(f) = m.fields.iter_mut().find(|f| f.field == field) {
                                f.column = col;
                                // The unit its header names, decided by the worker.
                                f.unit = None;
                            }
                        });
                    }>
                    <option value="" selected=selected.is_none()>"— not in this file —"</option>
                    {options().into_iter().map(|(c, label)| view! {
                        <option value=c.to_string() selected=selected == Some(c)>{label}</option>
                    }).collect_view()}
                </select>
            </td>
            <td>
                {(units.len() > 1).then(|| view! {
                    <label for=unit_id.clone() class="visually-hidden">{format!("{} unit", field_label(field))}</label>
                    <select id=unit_id.clone() data-testid=format!("map-unit-{}", field.as_str())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            let u = units.iter().copied().find(|u| u.as_str() == v);
                            check(state, |m| {
                                if let Some(f) = m.fields.iter_mut().find(|f| f.field == field) {
                                    f.unit = u;
                                }
                            });
                        }>
                        {units.iter().map(|u| view! {
                            <option value=u.as_str() selected=unit == Some(*u)>{unit_label(*u)}</option>
                        }).collect_view()}
                    </select>
                })}
                {(units.len() == 1).then(|| view! { <span class="muted">"hours a day"</span> })}
            </td>
        </tr>
    }
}

/// The mapping view: the choices beside what they read.
#[component]
pub fn MappingPanel(state: MappingState) -> impl IntoView {
    let s = expect_context::<Session>();
    let close = move || {
        if let Some(v) = state.view.get_untracked() {
            state.dismissed.update(|d| d.push((v.file, v.sha256)));
        }
        state.view.set(None);
        state.failed.set(None);
    };
    move || {
        let Some(v) = state.view.get() else {
            return state
                .failed
                .get()
                .map(|why| {
                    view! {
                        <p class="banner error" role="alert" data-testid="mapping-failed">
                            {why}
                            " "
                            <button type="button" class="link" on:click=move |_| state.failed.set(None)>"Dismiss"</button>
                        </p>
                    }
                })
                .into_any();
        };
        let m = v.mapping.clone();
        let toml = v.toml.clone();
        let plant_id = m.plant_id.clone();
        let header_options: Vec<(u32, String)> = (0..v.headers.len() as u32)
            .filter(|c| v.headers.get(*c as usize).is_some_and(|h| !h.is_empty()))
            .map(|c| (c, v.column_label(c)))
            .collect();
        let shown = v.shown.clone();
        view! {
            <section class="panel mapping" aria-labelledby="mapping-h" data-testid="mapping-view">
                <div class="panel-head">
                    <h2 id="mapping-h">{format!("Map the columns of {}", v.file)}</h2>
                    <button type="button" class="button subtle" data-testid="mapping-close"
                        on:click=move |_| close()>"Not now"</button>
                </div>
                <p class="muted">"No plant profile reads this file. Say which column holds what; the preview shows what these choices read. Saving keeps the profile in this browser (it is applied to this file and to files you drop later) and lists it with the inputs."</p>
                {state.failed.get().map(|why| view! { <p class="error" role="alert">{why}</p> })}
                <div class="mapping-grid">
                    <form class="mapping-form" on:submit=|ev| ev.prevent_default()>
                        <div class="field">
                            <label for="map-plant-id">"Plant ID (as in the lab files)"</label>
                            <input id="map-plant-id" data-testid="map-plant-id" value=m.plant_id.clone()
                                on:change=move |ev| { let t = event_target_value(&ev); check(state, |m| m.plant_id = t) } />
                        </div>
                        <div class="field">
                            <label for="map-plant-name">"Plant name (optional)"</label>
                            <input id="map-plant-name" value=m.plant_name.clone()
                                on:change=move |ev| { let t = event_target_value(&ev); check(state, |m| m.plant_name = t) } />
                        </div>
                        {(v.sheets.len() > 1).then(|| {
                            let sheet = m.sheet.clone();
                            view! {
                                <div class="field">
                                    <label for="map-sheet">"Sheet"</label>
                                    <select id="map-sheet" data-testid="map-sheet"
                                        on:change=move |ev| {
                                            let name = event_target_value(&ev);
                                            if let Some(v) = state.view.get_untracked() {
                                                answer(state, Request::SuggestProfile { name: v.file, sha256: v.sha256, sheet: Some(name), header_row: None });
                                            }
                                        }>
                                        {v.sheets.iter().map(|n| view! { <option value=n.clone() selected=*n == sheet>{n.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                            }
                        })}
                        <div class="field">
                            <label for="map-header-row">"Header row"</label>
                            <input id="map-header-row" data-testid="map-header-row" type="number" min="1" max="50" value=m.header_row.to_string()
                                on:change=move |ev| {
                                    let row = event_target_value(&ev).parse::<u32>().ok().filter(|r| *r >= 1);
                                    if let (Some(v), Some(row)) = (state.view.get_untracked(), row) {
                                        answer(state, Request::SuggestProfile { name: v.file, sha256: v.sha256, sheet: Some(v.mapping.sheet), header_row: Some(row) });
                                    }
                                } />
                        </div>
                        <div class="field">
                            <label for="map-header-rows">"Rows in the header (names, units…)"</label>
                            <input id="map-header-rows" data-testid="map-header-rows" type="number" min="1" max=MAX_HEADER_ROWS.to_string() value=m.header_rows.to_string()
                                on:change=move |ev| {
                                    if let Ok(n) = event_target_value(&ev).parse::<u32>() {
                                        check(state, |m| m.header_rows = n.clamp(1, MAX_HEADER_ROWS));
                                    }
                                } />
                        </div>
                        <div class="field">
                            <label for="map-date">"Date column"</label>
                            <select id="map-date" data-testid="map-date"
                                on:change=move |ev| {
                                    if let Ok(c) = event_target_value(&ev).parse::<u32>() {
                                        check(state, |m| m.date_column = c);
                                    }
                                }>
                                {header_options.iter().map(|(c, l)| view! { <option value=c.to_string() selected=*c == m.date_column>{l.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="map-date-format">"Dates written as text"</label>
                            <select id="map-date-format" data-testid="map-date-format"
                                on:change=move |ev| { let f = event_target_value(&ev); check(state, |m| m.date_format = f) }>
                                <option value="" selected=m.date_format.is_empty()>"M/D/YYYY (or YYYY-MM-DD)"</option>
                                {DATE_FORMATS.iter().map(|f| view! {
                                    <option value=*f selected=m.date_format == *f>{f.replace("%d", "D").replace("%m", "M").replace("%Y", "YYYY")}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <table class="mapping-fields">
                            <caption class="visually-hidden">"Fields, their columns and units"</caption>
                            <thead><tr><th scope="col">"Field"</th><th scope="col">"Column"</th><th scope="col">"Unit"</th></tr></thead>
                            <tbody>
                                {m.fields.iter().cloned().map(|choice| view! { <FieldRow state=state choice=choice /> }).collect_view()}
                            </tbody>
                        </table>
                        <div class="field">
                            <label for="map-summary">"Summary rows start with (comma-separated)"</label>
                            <input id="map-summary" data-testid="map-summary" value=m.summary_rows.join(", ")
                                on:change=move |ev| {
                                    let t = event_target_value(&ev);
                                    check(state, |m| m.summary_rows = t.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
                                } />
                        </div>
                        <div class="field">
                            <label for="map-file-name">"File names it reads (pattern, optional)"</label>
                            <input id="map-file-name" value=m.file_name.clone()
                                on:change=move |ev| { let t = event_target_value(&ev); check(state, |m| m.file_name = t) } />
                        </div>
                        <div class="actions">
                            <button type="button" class="button primary" data-testid="mapping-save" disabled=toml.is_none()
                                on:click={
                                    let (toml, plant_id) = (toml.clone(), plant_id.clone());
                                    move |_| if let Some(t) = toml.clone() {
                                        save_profile(s, state, Stored { plant_id: plant_id.clone(), toml: t });
                                    }
                                }>"Save profile"</button>
                            <button type="button" class="button" data-testid="mapping-download" disabled=toml.is_none()
                                on:click={
                                    let (toml, plant_id) = (toml.clone(), plant_id.clone());
                                    move |_| if let Some(t) = toml.clone() {
                                        download(s, &Stored { plant_id: plant_id.clone(), toml: t });
                                    }
                                }>"Download .toml"</button>
                        </div>
                    </form>
                    <div class="mapping-preview" aria-live="polite" data-testid="mapping-preview">
                        <h3>"What these choices read"</h3>
                        {(!v.problems.is_empty()).then(|| view! {
                            <ul class="error" data-testid="mapping-problems">
                                {v.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}
                            </ul>
                        })}
                        <p data-testid="mapping-account">{format!("{} days read; {}", v.days_read, v.account)}</p>
                        <p>{v.skipped.iter().map(|(k, n)| view! { <span class="chip">{format!("{k}: {n}")}</span> }).collect_view()}</p>
                        {(!v.days.is_empty()).then(|| view! {
                            <div class="table-wrap">
                                <table data-testid="mapping-days">
                                    <caption class="visually-hidden">"The first days read, in the units read"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Date"</th>
                                            <th scope="col" class="num">"Row"</th>
                                            {shown.iter().map(|(f, u)| view! { <th scope="col" class="num">{format!("{} ({})", f.as_str(), unit_label(*u))}</th> }).collect_view()}
                                            <th scope="col" class="num">"effluent m³/d"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {v.days.iter().map(|d| view! {
                                            <tr data-testid="mapping-day">
                                                <td class="nowrap">{d.date.to_string()}</td>
                                                <td class="num">{d.row}</td>
                                                {d.values.iter().map(|x| view! { <td class="num">{value_text(*x)}</td> }).collect_view()}
                                                <td class="num">{value_text(d.effluent_m3_per_day)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        })}
                        {(!v.findings.is_empty()).then(|| view! {
                            <details>
                                <summary>{format!("Findings ({})", v.findings.len())}</summary>
                                <ul data-testid="mapping-findings">
                                    {v.findings.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}
                                </ul>
                            </details>
                        })}
                        {toml.clone().map(|t| view! {
                            <details>
                                <summary>"The profile (TOML)"</summary>
                                <pre class="sheet-text" data-testid="mapping-toml">{t}</pre>
                            </details>
                        })}
                    </div>
                </div>
            </section>
        }
        .into_any()
    }
}

/// The profiles kept in this browser: view, download, delete.
#[component]
pub fn ProfilesPanel(state: MappingState) -> impl IntoView {
    let s = expect_context::<Session>();
    let applied = move |p: &Stored| {
        let name = p.file_name();
        s.report.with(|r| {
            r.as_ref()
                .is_some_and(|r| r.files.iter().any(|f| *f.name == *name))
        })
    };
    view! {
        <Show when=move || state.stored.with(|l| !l.is_empty())>
            <section class="panel profiles" aria-labelledby="profiles-h" data-testid="profiles-panel">
                <div class="panel-head"><h2 id="profiles-h">"Plant profiles in this browser"</h2></div>
                <p class="muted">"Saved from the mapping view. Each is added to the files you drop, so its plant's files are read without asking again."</p>
                <ul class="profile-list">
                    <For each=move || state.stored.get() key=|p| p.clone() let:p>
                        <li data-testid="profile-item" data-plant=p.plant_id.clone()>
                            <strong>{p.plant_id.clone()}</strong>
                            " "
                            {
                                let p2 = p.clone();
                                move || if applied(&p2) {
                                    view! { <span class="chip" data-testid="profile-applied">"applied to the files loaded"</span> }.into_any()
                                } else {
                                    view! { <span class="chip">"applied when you drop files"</span> }.into_any()
                                }
                            }
                            <div class="actions">
                                <button type="button" class="button small" data-testid="profile-download"
                                    aria-label=format!("Download the profile of {}", p.plant_id)
                                    on:click={ let p = p.clone(); move |_| download(s, &p) }>"Download"</button>
                                <button type="button" class="button small subtle" data-testid="profile-delete"
                                    aria-label=format!("Delete the profile of {}", p.plant_id)
                                    on:click={ let id = p.plant_id.clone(); move |_| delete_profile(s, state, &id) }>"Delete"</button>
                            </div>
                            <details>
                                <summary data-testid="profile-view">{format!("View the profile of {}", p.plant_id)}</summary>
                                <pre class="sheet-text">{p.toml.clone()}</pre>
                            </details>
                        </li>
                    </For>
                </ul>
            </section>
        </Show>
    }
}
