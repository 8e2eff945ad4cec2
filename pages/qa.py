"""Description QA: filter descriptions, review one (approve / flag / edit / regenerate), retry failures.

Model output is untrusted: descriptions, attributes and provider errors are shown with st.text,
st.code or dataframe cells only.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from core.services import qa
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame
from ui.undo import undo_panel

ALL = "All"
PAGE_ROWS = 100  # table rows sent to the browser at once: 5,000 rows with thumbnails would take seconds
FLASH = "qa_flash"  # a message that survives the st.rerun() after an action


def done(message: str, errors: list[tuple[str, str]] | None = None, base: str | None = None) -> None:
    if base:  # saved: the next run reads the new version as the one this session has seen
        st.session_state.pop(base, None)
    st.session_state[FLASH] = (message, errors or [])
    st.rerun()


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

    shown = view
    if len(view) > PAGE_ROWS:
        pages = -(-len(view) // PAGE_ROWS)
        if st.session_state.get("qa_page", 1) > pages:  # the filters narrowed the view below the chosen page
            st.session_state["qa_page"] = pages
        page = st.number_input(f"Table page (of {pages}, {PAGE_ROWS} rows each)", 1, pages, key="qa_page")
        shown = view.iloc[(page - 1) * PAGE_ROWS:page * PAGE_ROWS]
    st.dataframe(
        safe_frame(qa.with_thumbnails(lab, shown).assign(attributes=shown["attributes"].map(qa.attribute_text))),
        column_order=["thumbnail", "sku", "title", "prompt_ref", "provider", "status", "auto_flags", "text",
                      "attributes", "reason", "error"],
        column_config={
            "thumbnail": st.column_config.ImageColumn("Image", width="small"),
            "prompt_ref": "Prompt", "auto_flags": st.column_config.ListColumn("Auto flags"),
            "text": st.column_config.TextColumn("Description", width="large"),
        },
        hide_index=True, width="stretch", key="qa_table",
    )

    if view.empty:
        st.info("No descriptions match these filters.")
    else:
        st.subheader("Review")
        ids = [f"{r.key}|{r.sku}" for r in view.itertuples()]
        labels = {i: f"{r.sku} · {r.title} · {r.prompt_ref} · {r.provider}/{r.model}"
                  for i, r in zip(ids, view.itertuples(), strict=True)}
        chosen = st.selectbox("Item", ids, format_func=labels.get, key="qa_item")
        row = view.iloc[ids.index(chosen)]
        key = row["key"]
        base = f"qa_base_{key}"  # the review version this session opened: a save names it
        if base not in st.session_state or f"qa_edit_{key}" not in st.session_state:
            st.session_state[base] = row["revision"]
        reviewer = st.text_input("Your name (shown to other reviewers if you both change this description)",
                                 key="qa_reviewer")

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

        approve_tab, flag_tab, edit_tab, regen_tab = st.tabs(["Approve", "Flag", "Edit", "Regenerate"])
        with approve_tab:
            if st.button("Approve", key="qa_approve", type="primary"):
                with conflicts(base):
                    qa.approve(lab, key, revision=st.session_state[base], reviewer=reviewer)
                    done(f"Approved {row['sku']} ({row['prompt_ref']}).", base=base)
        with flag_tab:
            reason = st.text_input("Reason", key=f"qa_reason_{key}", placeholder="e.g. wrong colour")
            if st.button("Flag", key="qa_flag"):
                with conflicts(base):
                    qa.flag(lab, key, reason, revision=st.session_state[base], reviewer=reviewer)
                    done(f"Flagged {row['sku']} ({row['prompt_ref']}).", base=base)
        with edit_tab:
            new_text = st.text_area("Edited description", value=row["text"], key=f"qa_edit_{key}", height=150)
            if st.button("Save edit", key="qa_save"):
                with conflicts(base), st.spinner("Re-embedding…"):
                    n = qa.edit(lab, key, new_text, revision=st.session_state[base], reviewer=reviewer)
                    done(f"Saved the revision of {row['sku']}; re-embedded {n} item(s). The original is kept.",
                         base=base)
        with regen_tab:
            r1, r2, r3 = st.columns(3)
            refs = [p.ref for p in lab.prompts.all_versions()]
            new_ref = r1.selectbox("Prompt version", refs, index=refs.index(row["prompt_ref"])
                                   if row["prompt_ref"] in refs else 0, key="qa_regen_prompt")
            providers = qa.provider_choices(lab)
            new_provider = r2.selectbox("Provider", providers, index=providers.index(row["provider"])
                                        if row["provider"] in providers else 0, key="qa_regen_provider")
            new_model = r3.text_input("Model (blank = provider default)", key="qa_regen_model")
            retry = st.checkbox("Call the provider again if this combination failed before", key="qa_regen_retry")
            if st.button("Regenerate", key="qa_regen"):
                with st.status(f"Describing {row['sku']}…") as box:
                    report = qa.regenerate(lab, row["sku"], new_ref, new_provider, new_model or None,
                                           retry_failed=retry)
                    box.update(label=plain(report.summary()), state="error" if report.failed else "complete")
                done(f"Regenerated {row['sku']}: {report.summary()}", report.errors)

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
