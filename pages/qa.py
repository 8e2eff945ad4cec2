"""Description QA: filter descriptions, review them as a keyboard queue (approve / flag / next), edit text and
facets, regenerate, act on a table selection in bulk, retry failures and export the approved product copy.

Model output is untrusted: descriptions, attributes and provider errors are shown with st.text,
st.code or dataframe cells only.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pandas as pd
import streamlit as st

from core.lab import Lab
from core.models import FACETS
from core.services import qa
from ui.copy_export import copy_export_panel
from ui.links import item_link
from ui.state import SAVED_PROMPT, get_lab, user_errors
from ui.text import plain, safe_frame
from ui.undo import undo_panel

ALL = "All"
PAGE_ROWS = 100  # table rows sent to the browser at once: 5,000 rows with thumbnails would take seconds
FLASH = "qa_flash"  # a message that survives the st.rerun() after an action
GOTO = "qa_goto"  # the queue's next item, applied before the item picker is drawn on the next run
TABS = ["Edit text", "Edit facets", "Regenerate"]


def done(message: str, errors: list[tuple[str, str]] | None = None, base: str | None = None,
         goto: str | None = None, forget: tuple[str, ...] = ()) -> None:
    if base:  # saved: the next run reads the new version as the one this session has seen
        st.session_state.pop(base, None)
    for key in forget:
        st.session_state.pop(key, None)
    if goto:
        st.session_state[GOTO] = goto
    st.session_state[FLASH] = (message, errors or [])
    st.rerun()


def go_to(item_id: str) -> None:
    st.session_state["qa_item"] = item_id


def facet_values(edited: pd.DataFrame) -> dict[str, list[str]]:
    """The facet editor's rows back into facets; values are comma-separated in a cell."""
    return {r["facet"]: [v.strip() for v in str(r["values"] or "").split(",")] for r in edited.to_dict("records")}


@contextmanager
def conflicts(base: str) -> Iterator[None]:
    """Another reviewer saved first: show both versions; theirs is kept, this session has now seen it."""
    try:
        yield
    except qa.ReviewConflict as exc:
        st.session_state[base] = exc.current["revision"]
        st.error(plain(exc))
        st.caption("Their version (kept)")
        st.text(exc.theirs)
        if exc.yours:
            st.caption("Your text (not saved; still in the editor: save again to replace theirs)")
            st.text(exc.yours)


def progress_bar(label: str):
    bar = st.progress(0.0, text=label)
    return lambda d, t, _: bar.progress(d / max(t, 1), text=f"{label} {d}/{t}")


@st.fragment(run_every=2)
def colour_check_watch() -> None:
    """Rerun the page once the background colour analysis has stored its results."""
    if not qa.colours_pending(get_lab()):
        st.rerun()


def pick(frame: pd.DataFrame, column: str) -> list[str]:
    return [ALL, *sorted(frame[column].unique())]


def edit_text_panel(lab: Lab, row: pd.Series, base: str, reviewer: str) -> None:
    key = row["key"]
    new_text = st.text_area("Edited description", value=row["text"], key=f"qa_edit_{key}", height=150)
    if st.button("Save edit", key="qa_save"):
        with conflicts(base), st.spinner("Re-embedding…"):
            n = qa.edit(lab, key, new_text, revision=st.session_state[base], reviewer=reviewer)
            done(f"Saved the revision of {row['sku']}; re-embedded {n} item(s). The original is kept.", base=base)


def edit_facets_panel(lab: Lab, row: pd.Series, base: str, reviewer: str) -> None:
    st.caption("Correct the structured facets (values separated by commas); the model's facets are kept beside "
               "them and exports use yours.")
    frame = pd.DataFrame([{"facet": f, "values": ", ".join(row["attributes"].get(f, []))} for f in FACETS])
    edited = st.data_editor(frame, key=f"qa_facets_{row['key']}_{st.session_state[base]}", disabled=["facet"],
                            hide_index=True, num_rows="fixed", width="stretch")
    if row["attributes"] != row["original_attributes"]:
        st.caption("The model's facets")
        st.text(qa.attribute_text(row["original_attributes"]) or "(none)")
    if st.button("Save facets", key="qa_save_facets"):
        with conflicts(base):
            qa.edit_facets(lab, row["key"], facet_values(edited), revision=st.session_state[base],
                           reviewer=reviewer)
            done(f"Saved the facets of {row['sku']} ({row['prompt_ref']}). The model's are kept.", base=base)


def regenerate_panel(lab: Lab, row: pd.Series, base: str, reviewer: str) -> None:
    key = row["key"]
    r1, r2, r3 = st.columns(3)
    refs = [p.ref for p in lab.prompts.all_versions()]
    default = qa.regenerate_default(lab, row["prompt_ref"], saved=st.session_state.get(SAVED_PROMPT))
    picker = f"qa_regen_prompt_{key}"
    if st.session_state.get(f"{picker}_default") != default:  # a version saved since: offer it over the old pick
        st.session_state[f"{picker}_default"] = default
        st.session_state.pop(picker, None)
    new_ref = r1.selectbox("Prompt version", refs, index=refs.index(default) if default in refs else 0, key=picker)
    providers = qa.provider_choices(lab)
    new_provider = r2.selectbox("Provider", providers, index=providers.index(row["provider"])
                                if row["provider"] in providers else 0, key=f"qa_regen_provider_{key}")
    new_model = r3.text_input("Model (blank = provider default)", key="qa_regen_model")
    retry = st.checkbox("Call the provider again if this combination failed before", key="qa_regen_retry")
    if st.button("Regenerate", key="qa_regen"):
        with st.status(f"Describing {row['sku']}…") as box:
            report = qa.regenerate(lab, row["sku"], new_ref, new_provider, new_model or None, retry_failed=retry)
            box.update(label=plain(report.summary()), state="error" if report.failed else "complete")
        done(f"Regenerated {row['sku']}: {report.summary()}", report.errors)


st.title("Description QA")
st.caption("Check what the describer wrote before it drives recommendations: approve it, flag it with a "
           "reason, fix the text (the fix is re-embedded; the model's original is kept) or regenerate it.")

lab = get_lab()
if FLASH in st.session_state:
    message, errors = st.session_state.pop(FLASH)
    st.success(plain(message))
    for sha, error in errors:
        st.code(f"{sha[:12]}: {error}", language=None, wrap_lines=True)
undo_panel(lab, "qa", forget=("qa_edit_", "qa_base_"))

with user_errors():
    with st.spinner("Checking descriptions against their images…"):
        table = qa.qa_table(lab, wait_for_colours=False)
    if qa.colours_pending(lab):
        st.info("The colour check (text against image colours) is still running in the background for some "
                "images: their colour contradictions appear here when it is done.")
        colour_check_watch()
    if table.empty:
        st.info("No descriptions yet. Describe the catalogue in the Prompt Lab (or build the sample on Home).")
        st.stop()

    reviewer = st.text_input("Your name (shown to other reviewers if you both change a description)",
                             key="qa_reviewer")
    c1, c2, c3, c4 = st.columns(4)
    category = c1.selectbox("Category", pick(table, "category"), key="qa_category")
    prompt_ref = c2.selectbox("Prompt version", pick(table, "prompt_ref"), key="qa_prompt")
    provider = c3.selectbox("Provider", pick(table, "provider"), key="qa_provider")
    status = c4.selectbox("Status", [ALL, *qa.STATUS_FILTERS], key="qa_status")
    view = qa.filter_qa(table, category=None if category == ALL else category,
                        prompt_ref=None if prompt_ref == ALL else prompt_ref,
                        provider=None if provider == ALL else provider, status=None if status == ALL else status)
    counts = qa.status_counts(view)
    st.caption(f"{len(view)} of {len(table)} descriptions · "
               + plain(" · ".join(f"{name}: {n}" for name, n in counts.items())))

    st.download_button(f"Download these {len(view):,} descriptions (CSV)", lambda: qa.qa_csv(view),
                       file_name="description-qa.csv", mime="text/csv", on_click="ignore", key="qa_download",
                       disabled=view.empty)
    shown = view
    if len(view) > PAGE_ROWS:
        pages = -(-len(view) // PAGE_ROWS)
        if st.session_state.get("qa_page", 1) > pages:  # the filters narrowed the view below the chosen page
            st.session_state["qa_page"] = pages
        page = st.number_input(f"Table page (of {pages:,}, {PAGE_ROWS:,} rows each)", 1, pages, key="qa_page")
        shown = view.iloc[(page - 1) * PAGE_ROWS:page * PAGE_ROWS]
    picked = st.dataframe(
        safe_frame(qa.with_thumbnails(lab, shown).assign(attributes=shown["attributes"].map(qa.attribute_text),
                                                         details="item?sku=" + shown["sku"].map(quote))),
        column_order=["thumbnail", "sku", "title", "prompt_ref", "provider", "status", "edited", "auto_flags", "text",
                      "attributes", "reason", "error", "details"],
        column_config={
            "thumbnail": st.column_config.ImageColumn("Image", width="small"),
            "prompt_ref": "Prompt", "auto_flags": st.column_config.ListColumn("Auto flags"),
            "edited": st.column_config.CheckboxColumn("Edited", help="A reviewer changed the text or facets; "
                                                      "it stays edited once approved or flagged."),
            "text": st.column_config.TextColumn("Description", width="large"),
            "details": st.column_config.LinkColumn("Details", display_text="open item"),
        },
        hide_index=True, width="stretch", key="qa_table", on_select="rerun", selection_mode="multi-row",
    )
    selected = shown.iloc[[r for r in picked.selection.rows if r < len(shown)]]
    if len(selected):
        st.caption(f"{len(selected)} selected in the table")
        b1, b2, b3 = st.columns([1, 2, 1], vertical_alignment="bottom")
        bulk_reason = b2.text_input("Reason for flagging the selection", key="qa_bulk_reason")
        seen = dict(zip(selected["key"], selected["revision"], strict=True))
        if b1.button(f"Approve {len(selected)} selected", key="qa_bulk_approve", type="primary"):
            result = qa.approve_many(lab, seen, reviewer=reviewer)
            done(result.summary("Approved"), result.skipped, forget=("qa_table",))
        if b3.button(f"Flag {len(selected)} selected", key="qa_bulk_flag"):
            result = qa.flag_many(lab, seen, bulk_reason, reviewer=reviewer)
            done(result.summary("Flagged"), result.skipped, forget=("qa_table", "qa_bulk_reason"))
    else:
        st.caption("Select rows (the boxes at the left of the table) to approve or flag them together.")

    if view.empty:
        st.info("No descriptions match these filters.")
    else:
        st.subheader("Review")
        ids = [f"{r.key}|{r.sku}" for r in view.itertuples()]
        labels = {i: f"{r.sku} · {r.title} · {r.prompt_ref} · {r.provider}/{r.model}"
                  for i, r in zip(ids, view.itertuples(), strict=True)}
        if (goto := st.session_state.pop(GOTO, None)) in ids:
            st.session_state["qa_item"] = goto
        chosen = st.selectbox("Item", ids, format_func=labels.get, key="qa_item")
        at = ids.index(chosen)
        row = view.iloc[at]
        key = row["key"]
        following = ids[at + 1] if at + 1 < len(ids) else None  # where the queue goes after an action
        base = f"qa_base_{key}"  # the review version this session opened: a save names it
        if base not in st.session_state or f"qa_edit_{key}" not in st.session_state:
            st.session_state[base] = row["revision"]

        st.caption(f"Queue: item {at + 1:,} of {len(ids):,}. Keys: A approve, F flag (with the reason typed), "
                   "N next, P previous; they act once the cursor is outside a text box.")
        q1, q2, q3, q4, q5 = st.columns([1, 1, 2, 1, 1], vertical_alignment="bottom")
        q1.button("Previous", key="qa_prev", shortcut="P", on_click=go_to, args=(ids[at - 1],), disabled=at == 0)
        if q2.button("Approve", key="qa_approve", type="primary", shortcut="A"):
            with conflicts(base):
                qa.approve(lab, key, revision=st.session_state[base], reviewer=reviewer)
                done(f"Approved {row['sku']} ({row['prompt_ref']}).", base=base, goto=following)
        reason = q3.text_input("Reason", key=f"qa_reason_{key}", placeholder="e.g. wrong colour")
        if q4.button("Flag", key="qa_flag", shortcut="F"):
            with conflicts(base):
                qa.flag(lab, key, reason, revision=st.session_state[base], reviewer=reviewer)
                done(f"Flagged {row['sku']} ({row['prompt_ref']}).", base=base, goto=following)
        q5.button("Next", key="qa_next", shortcut="N", on_click=go_to, args=(following,), disabled=following is None)

        left, right = st.columns([1, 2])
        left.image(row["image_path"], width="stretch")
        with right:
            st.text(f"{row['sku']} · {row['title']} · {row['category']} · status: {row['status'] or 'unreviewed'}"
                    + (f" · reason: {row['reason']}" if row["reason"] else ""))
            if row["error"]:
                st.code(row["error"], language=None, wrap_lines=True)
            st.caption("Description")
            st.text(row["text"])
            if row["text"] != row["original_text"]:
                st.caption("Original model text")
                st.text(row["original_text"])
            attrs = pd.DataFrame([{"facet": f, "values": ", ".join(v)} for f, v in row["attributes"].items()])
            st.dataframe(safe_frame(attrs), hide_index=True, width="stretch")
            for flag in row["auto_flags"]:
                st.text(f"⚠ {flag}")
            item_link(row["sku"])

        # Keyed and tracked on the server, so the open tab survives the reruns that editing and saving cause;
        # only the open tab's widgets run.
        for tab, panel in zip(st.tabs(TABS, key="qa_tab", on_change="rerun"),
                              (edit_text_panel, edit_facets_panel, regenerate_panel), strict=True):
            if tab.open:
                with tab:
                    panel(lab, row, base, reviewer)

    st.subheader("Failed items")
    failed = qa.failed_runs(table)
    if failed.empty:
        st.caption("No failed descriptions.")
    else:
        runs = failed.to_dict("records")
        run = runs[st.selectbox("Run", range(len(runs)), key="qa_retry_run", format_func=lambda i: (
            f"{runs[i]['prompt_ref']} · {runs[i]['provider']}/{runs[i]['model']} ({runs[i]['failed']} failed)"))]
        if st.button("Retry failed items", key="qa_retry"):
            with st.status("Retrying failed items…") as box:
                report = qa.retry_failed(lab, run["prompt_ref"], run["provider"], run["model"],
                                         progress=progress_bar("describing"))
                box.update(label=plain(report.summary()), state="error" if report.failed else "complete")
            done(f"Retried: {report.summary()}", report.errors)

copy_export_panel(lab)
