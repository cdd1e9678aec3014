"""The disclosure guide's content and domain: what it advises on each branch, how it reads typed
answers, what the closing summary says, and that broken content cannot ship."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from knowledge.disclosure import CONTROL_IDS, FlowContentError, load_flow
from knowledge.check import REFERENCE_DIR

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "knowledge" / "content"
REFERENCE = REFERENCE_DIR  # $SHARED_DIR/reference, by default ../shared beside the checkout


@pytest.fixture(scope="module")
def flow():
    return load_flow()


def all_text(flow) -> list[str]:
    out: list[str] = []
    for step_id in flow.step_ids:
        step = flow.step(step_id)
        out += [step.title, step.text or ""]
        for item in step.items:
            out += [item.text, item.summary or "", *item.points]
        for choice in step.choices:
            out += [choice.title, *choice.synonyms]
    out += list(flow.messages.model_dump().values())
    return out


# ------------------------------------------------------------------------------ the content


def path_to(flow, topic: str, danger: str = "no") -> list[str]:
    path = ["danger"]
    if flow.choice("danger", danger).next == "emergency":
        path.append("emergency")
    return [*path, "with-child", "topic", topic, "record", "act", "close"]


def step_text(flow, step_id: str) -> str:
    step = flow.step(step_id)
    return " ".join([step.text or "", *(item.text + " " + " ".join(item.points) for item in step.items)])


def test_the_flow_starts_by_asking_about_immediate_danger(flow):
    first = flow.step(flow.start)
    assert "immediate danger" in first.text
    assert {c.id for c in first.choices} == {"yes", "no", "not-sure"}


@pytest.mark.parametrize("answer", ["yes", "not-sure"])
def test_yes_and_not_sure_both_lead_to_calling_999(flow, answer):
    emergency = flow.step(flow.choice("danger", answer).next)
    assert "Call 999 now and keep the child safe" in step_text(flow, emergency.id)


def test_no_danger_goes_straight_to_being_with_the_child(flow):
    assert flow.choice("danger", "no").next == "with-child"


def test_with_the_child_gives_the_four_briefing_steps(flow):
    text = step_text(flow, "with-child")
    for phrase in ("Stay calm and listen", "shock or disbelief", "leading or investigative questions",
                   "done the right thing", "what will happen next and who will be told"):
        assert phrase in text


@pytest.mark.parametrize(
    ("branch", "phrases"),
    [
        ("images-or-videos", ["Do not view or forward", "do not delete", "investigate yourself",
                              "not to contact or confront the alleged perpetrator", "CEOP"]),
        ("another-child", ["contextual safeguarding", "power, coercion and exploitation", "ongoing contact"]),
        ("nudes", ["DSL", "Never view, copy, print, share, store or save", "adult is involved",
                   "police urgently", "under 13", "coerced, blackmailed or groomed", "suicidal"]),
        ("other", ["real-world, serious harm", "investigate yourself"]),
    ],
)
def test_each_topic_branch_gives_its_advice(flow, branch, phrases):
    assert flow.choice("topic", branch).next == branch
    text = step_text(flow, branch)
    for phrase in phrases:
        assert phrase in text, (branch, phrase)


def test_the_nudes_branch_lists_all_five_reasons_for_an_immediate_referral(flow):
    reasons = next(item for item in flow.step("nudes").items if item.points)
    assert len(reasons.points) == 5


def test_record_says_where_to_record_and_only_what_the_sources_say(flow):
    step = flow.step("record")
    assert "not in this chat" in step.text
    assert [item.text for item in step.items] == [
        "If you haven't told your DSL yet, tell them now: act on a concern at once, and don't let writing"
        " it up delay telling the DSL.",
        "The child's own words, verbatim.",
        "Written as soon as possible.",
        "For schools in England (Keeping Children Safe in Education): your concerns, any discussions about"
        " them, and the decisions made, with the reasons for them, are recorded in writing.",
        "For schools in England (Keeping Children Safe in Education): the DSL keeps the child protection file.",
    ]


def test_what_keeping_children_safe_in_education_says_is_given_as_the_rule_for_schools_in_england(flow):
    """KCSIE is statutory for schools in England, not for every practitioner the bot serves."""
    for item in flow.step("record").items:
        if any(source.reference == "guidance.md#records" for source in item.sources):
            assert "schools in England (Keeping Children Safe in Education)" in item.text, item.text
    assert "schools in England" in flow.content.reference_labels["guidance.md#records"]


def test_the_danger_question_says_only_what_its_source_says(flow):
    """"Treat it as yes" had no source; the NSPCC says: if you think a child is in immediate
    danger, call 999."""
    step = flow.step("danger")
    assert "treat it as yes" not in step.text
    assert "if you think a child is in immediate danger" in step.text
    assert [s.reference for s in step.sources] == ["contacts.yaml#emergency"]
    assert str(step.sources[0].url) == "https://www.nspcc.org.uk/what-you-can-do/report-abuse/"


def test_act_tells_the_dsl_refers_and_shows_the_referral_routes(flow):
    step = flow.step("act")
    text = step_text(flow, "act")
    for phrase in ("local safeguarding procedures", "DSL", "children's social care", "police",
                   "devices", "accounts", "ongoing contact"):
        assert phrase in text
    assert step.referral_routes


def test_the_guide_ends_with_professional_advice_not_a_promise_of_wellbeing_support(flow):
    """POSH gives online-safety advice to professionals; the sources do not describe it as
    support for the practitioner's own wellbeing."""
    close = flow.step("close")
    assert close.ends_flow and "posh" in close.services
    assert "professional" in close.title.lower()
    assert "look after yourself" not in (close.title + " " + step_text(flow, "close")).lower()


def test_the_flow_keeps_no_danger_word_list_or_999_line_of_its_own():
    """What counts as danger is the shared triage's to decide, and the 999 line is the shared
    `emergency` message: one place each, so they cannot drift apart."""
    data = yaml.safe_load((CONTENT / "disclosure.yaml").read_text(encoding="utf-8"))
    assert "emergency_phrases" not in data
    assert "emergency" not in data["messages"]


def test_every_item_of_advice_cites_a_source(flow):
    for step_id in flow.step_ids:
        for item in flow.step(step_id).items:
            assert item.sources, (step_id, item.text)


def test_cited_references_and_services_exist_in_the_shared_reference(flow):
    if not REFERENCE.exists():
        pytest.skip("shared reference not present")
    from knowledge.check import reference_anchors

    anchors = reference_anchors(REFERENCE)
    service_ids = anchors["contacts.yaml"]
    assert {"emergency", "ceop", "posh", "report_remove"} <= service_ids
    for step_id in flow.step_ids:
        step = flow.step(step_id)
        assert set(step.services) <= service_ids, step_id
        for source in [*step.sources, *(s for item in step.items for s in item.sources)]:
            if source.reference:
                file, anchor = source.reference.split("#")
                assert anchor in anchors[file], source.reference


def test_content_holds_no_contact_details_and_no_wrong_terms(flow):
    """Numbers and addresses live in the referral directory only; 999 is the one exception."""
    contact = re.compile(r"(?:\+44\s?|\b0)\d(?:[\s-]?\d){6,}|@[\w-]+\.|https?://|www\.|\.(?:org|com|gov)\.?uk\b")
    for text in all_text(flow):
        assert not contact.search(text), text
        assert not re.search(r"child\s+porn", text, re.IGNORECASE), text


def test_the_domain_does_not_import_the_bot_framework():
    code = "import sys, knowledge.disclosure; print(any(m.startswith('botbuilder') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# ------------------------------------------------------------------------------ validation


def broken_copy(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((CONTENT / "disclosure.yaml").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "disclosure.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "briefing_sections.yaml").write_text(
        (CONTENT / "briefing_sections.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return tmp_path


def step_named(data: dict, step_id: str) -> dict:
    return next(step for step in data["steps"] if step["id"] == step_id)


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda d: step_named(d, "with-child")["choices"][0].update(next="nowhere"), "nowhere"),
        (lambda d: step_named(d, "record")["items"][0].update(sources=[]), "cites at least one source"),
        (lambda d: step_named(d, "record")["items"][0].update(sources=[{"briefing": "made-up"}]), "made-up"),
        (lambda d: step_named(d, "topic")["choices"].pop(), "nobody can reach"),
        (lambda d: d["messages"].pop("resume"), "resume"),
        (lambda d: step_named(d, "danger").update(colour="red"), "colour"),
        (lambda d: step_named(d, "danger")["choices"][0].update(id="back"), "reserved for controls"),
    ],
)
def test_broken_content_stops_loading_and_says_what_is_wrong(tmp_path, edit, complaint):
    with pytest.raises(FlowContentError, match=re.escape(complaint)):
        load_flow(broken_copy(tmp_path, edit))


def test_a_missing_flow_file_is_an_error_not_an_empty_flow(tmp_path):
    with pytest.raises(FlowContentError, match="cannot read"):
        load_flow(tmp_path)


# ------------------------------------------------------------------------------ typed answers


@pytest.mark.parametrize(
    ("step", "typed", "meant"),
    [
        ("danger", "y", "yes"), ("danger", "Yeah", "yes"), ("danger", "yep!", "yes"), ("danger", "yse", "yes"),
        ("danger", "nope", "no"), ("danger", "No.", "no"), ("danger", "nah", "no"),
        ("danger", "not sure", "not-sure"), ("danger", "dunno", "not-sure"), ("danger", "Not sure?", "not-sure"),
        ("danger", "no idea", "not-sure"), ("danger", "2", "no"), ("danger", "3", "not-sure"),
        ("danger", "4", "cancel"), ("danger", "stop", "cancel"),
        ("with-child", "contnue", "continue"), ("with-child", "ok", "continue"), ("with-child", "go back", "back"),
        ("with-child", "start again", "restart"), ("with-child", "help", "help"),
        ("topic", "imgaes", "images-or-videos"), ("topic", "sexting", "nudes"), ("topic", "semi nudes", "nudes"),
        ("topic", "peer on peer", "another-child"), ("topic", "not sure", "other"), ("topic", "3", "nudes"),
        ("topic", "option 1", "images-or-videos"),
    ],
)
def test_typed_answers_are_understood(flow, step, typed, meant):
    assert flow.interpret_answer(step, typed) == meant


@pytest.mark.parametrize(
    ("step", "typed"),
    [
        ("danger", "what's ceop?"), ("danger", ""), ("danger", "9"), ("danger", "yo"), ("danger", "maybe later"),
        ("topic", "nope"), ("topic", "the stepdad"), ("with-child", "I don't think that applies here"),
    ],
)
def test_unclear_answers_are_not_guessed(flow, step, typed):
    assert flow.interpret_answer(step, typed) is None


def test_back_is_not_offered_on_the_first_step(flow):
    ids = [cid for cid, _ in flow.buttons(flow.start)]
    assert "back" not in ids and "cancel" in ids
    assert flow.interpret_answer(flow.start, "back") is None


def test_every_step_offers_cancel_and_every_later_step_back_and_start_again(flow):
    for step_id in flow.step_ids:
        if flow.step(step_id).ends_flow or step_id == flow.start:
            continue
        ids = {cid for cid, _ in flow.buttons(step_id)}
        assert {"back", "restart", "cancel"} <= ids, step_id
    assert set(CONTROL_IDS) == {"back", "restart", "cancel", "help"}


# ------------------------------------------------------------------------------ summary


def test_summary_lists_what_the_path_taken_advised(flow):
    started = datetime(2026, 11, 25, 9, 41, tzinfo=timezone.utc)
    nudes = flow.summary(path_to(flow, "nudes"), started)
    images = flow.summary(path_to(flow, "images-or-videos", danger="yes"), started)
    assert any("police urgently" in line for line in nudes.lines)
    assert not any("CEOP" in line for line in nudes.lines)
    assert any("CEOP" in line for line in images.lines)
    assert any("999" in line for line in images.lines)
    assert not any("999" in line for line in nudes.lines)
    for summary in (nudes, images):
        assert any("verbatim" in line for line in summary.lines)
        assert any("children's social care" in line for line in summary.lines)
        assert len(summary.lines) == len(set(summary.lines))


@pytest.mark.parametrize(
    ("started", "shown"),
    [
        (datetime(2026, 11, 25, 9, 41, tzinfo=timezone.utc), "09:41 on 25 November 2026"),  # GMT
        (datetime(2026, 7, 1, 12, 5, tzinfo=timezone.utc), "13:05 on 1 July 2026"),  # BST
    ],
)
def test_summary_shows_the_start_time_in_uk_time(flow, started, shown):
    summary = flow.summary(path_to(flow, "other"), started)
    assert shown in summary.started
    assert summary.as_text().startswith(summary.title)
    assert summary.started in summary.as_text()


@pytest.mark.parametrize(
    ("text", "question"),
    [("what's ceop?", True), ("ceop?", True), ("who do I tell", True), ("how does report remove work", True),
     ("the stepdad sent pics", True), ("ok", False), ("finish", False), ("hmm", False), ("", False)],
)
def test_only_question_like_messages_go_to_the_faq_mid_flow(text, question):
    from knowledge.disclosure import looks_like_question

    assert looks_like_question(text) is question


def test_an_answer_to_another_step_is_recognised_as_one(flow):
    assert flow.is_answer_elsewhere("continue") and flow.is_answer_elsewhere("Nudes")
    assert not flow.is_answer_elsewhere("what is ceop")
