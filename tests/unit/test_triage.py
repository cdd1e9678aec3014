"""Turn triage, field by field, on messages written for these tests (not the eval set).

Each case is something a practitioner could type; each assertion is what they would notice:
999 first or not, a kind correction or not, the guide starting or not, a privacy reminder or not.
"""

from __future__ import annotations

import dataclasses

import pytest

from knowledge.triage import INTENTS, Triage, TriageRules, load_triage_rules, triage


@pytest.fixture(scope="module")
def rules() -> TriageRules:
    return load_triage_rules()


# ------------------------------------------------------------------------------------ emergency

CHILD_IN_DANGER_NOW = [
    "a 14 year old is meeting a man she met online tonight",
    "pupil is live streaming with an adult right now",
    "girl in my class has taken an overdose",
    "she's threatening to kill herself",
    "a boy has gone missing and we think he's with a man he met on roblox",
    "the child is in danger",
    "child not safe to go home tonight",
    "I need help now a child is being hurt",
    "pupil being blackmailed, he says he'll share her pics in an hour unless she pays",
    "her abuser is waiting outside school for her",
    "he's got her locked in his flat",
    "a kid is being groomed on discord and is planning to meet him after school",
    "pupil says she wants to die",
    "a student is cutting herself in the toilets right now",
    "urgent child sending nudes to adult now",
    "child is currently on a video call with a man who is asking her to undress",
    "boy says his stepdad will beat him if he goes home",
    "teen girl missing, last seen getting into a car with a man",
    "child being held against her will",
    "a girl is in a car with a man she met online",
    "student being sextorted, he's given her till tonight to pay",
    "she says a man she met on insta is coming to get her from school",
    "the girl is at his flat now",
    "the boy has said he'll end it all tonight",
    "my student has swallowed a bottle of pills",
    "a year 10 girl has not returned home and her phone is off",
    "our pupil was picked up by an unknown man in a car ten minutes ago",
    "he is forcing her to do things on webcam as we speak",
    "the offender is at the house with the kids now",
    "please help, he has her phone and is threatening to come over",
    "a man has been hanging around the school gates and tried to get a pupil into his car",
    "child ran off with a man from tiktok",
    "she's in the toilets with a blade",
    "a 15yo says a 30 year old is picking her up after school",
    "a child is being sextorted, they want money by 5pm",
    "he's messaged saying he's going to take some pills",
    "sw here - 14yo on my caseload says she's at a party with older men and can't get home",
    "foster carer just called, the young person hasn't come back and her phone is off",
    "the young person is being held at an address by a gang",
    "kid is live on tiktok and adults are asking him to undress",
    "11 yr old has gone to meet a friend she met on roblox",
    "shes not answering her phone and we think shes with the groomer",
    "she's on her way to meet him",
    "girl gone off in a car w/ older man",
    "year 9 being sold for sex",
    "he says he knows where she lives and is coming tonight",
    "pls hlp shes bein abused rn",
    # abuse material being made now, in right or wrong words
    "child porn being made right now at a house",
    "indecent images being made right now",
    "kiddie porn being filmed right now",
    "someone is filming sexual videos of a 13 year old now",
    "csam being live streamed from a flat as we speak",
    # "ending it" with a time that is now
    "she says she'll end it tonight",
    "pupil messaged that he is going to end it today",
]

NOT_AN_EMERGENCY = [
    "what are the signs of online grooming",
    "how do i know if a child is in immediate danger",
    "what counts as an emergency",
    "when should i ring 999 rather than 101",
    "a child disclosed historic abuse from primary school",
    "we have a cp meeting today about a child who was groomed",
    "is self-harm an indicator of online abuse",
    "how urgent is it to refer a sexting case",
    "what do i do now that a child has told me about nudes",
    "year 10 boy shared a nude of his girlfriend today - what do i do",
    "i have a training session tonight on grooming",
    "is it an emergency if a child sends a nude",
    "the child was in danger but is safe now",
    "i'm currently writing our online safety policy, what should it say about live streaming",
    "right now i'm trying to understand sextortion",
    "the abuse happened two years ago",
    "what is live streamed abuse and how common is it now",
    "she lost her phone today",
    "what is the non-emergency police number",
    "we currently have three pupils on cp plans for sexual abuse",
    "at the moment we're seeing lots of sextortion cases in year 10",
    "the police are now involved in the abuse case",
    "the abuser is in prison now",
    "the child is currently in foster care after the abuse",
    "not right now, she's with her mum",
    "how do I support a pupil who says she wants to die",
    "indecent images were made of her last year and the police have them now",
    "the cp plan is being made right now",
    "how is abuse material made and shared",
    "she says she'll end it with him today",
    "we will end it there for today",
]


@pytest.mark.parametrize("text", CHILD_IN_DANGER_NOW)
def test_a_child_in_danger_now_gets_999_first(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).emergency


@pytest.mark.parametrize("text", NOT_AN_EMERGENCY)
def test_questions_about_danger_and_the_past_are_not_alarms(text: str, rules: TriageRules) -> None:
    assert not triage(text, rules).emergency


@pytest.mark.parametrize(
    "typed",
    ["she is SUICIDAL", "shes sucidal", "she is in dangerrr", "help a child is in imediate danger", "Emergancy"],
)
def test_alarm_words_survive_capitals_typos_and_stretched_letters(typed: str, rules: TriageRules) -> None:
    assert triage(typed, rules).emergency


@pytest.mark.parametrize(
    "text",
    ["a pupil told me she was texting a friend", "in our setting the form is attached", "she was not amused",
     "the overdone training was amusing", "he said the rating was unfair"],
)  # fmt: skip
def test_real_words_are_never_corrected_into_alarm_words(text: str, rules: TriageRules) -> None:
    found = triage(text, rules)
    assert not found.emergency and found.intent != "disclosure"


def test_saying_the_child_is_not_in_danger_is_not_an_alarm(rules: TriageRules) -> None:
    assert triage("a child is in danger", rules).emergency
    assert not triage("the child is not in immediate danger", rules).emergency
    assert not triage("no one is in danger, I just need advice", rules).emergency


def test_harm_with_right_now_fires_even_inside_a_question(rules: TriageRules) -> None:
    """A general frame never hides a strong present-tense signal: a false alarm costs a line."""
    assert triage("what should i do, a child is being abused right now", rules).emergency
    assert not triage("what should i do if a child is being abused", rules).emergency


def test_an_alarm_at_the_end_of_a_long_message_is_still_found(rules: TriageRules) -> None:
    preamble = "I'm a youth worker and I've been worried about one of our young people for a while. " * 20
    assert triage(preamble + "He is with the man from the chat right now.", rules).emergency


# ---------------------------------------------------------------------------------- wrong terms


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("what is the law on child porn", "child porn"),
        ("found child pornography on a pupil's tablet", "child pornography"),
        ("is kiddy porn the same thing as csam", "kiddie porn"),
        ("under age porn shared on snapchat", "underage porn"),
        ("someone was downloading CP at work", "cp"),
        ("he was caught with cp", "cp"),
        ("cp pics in the group chat", "cp"),
        ("CHILD PORN", "child porn"),
        ("pornographic images of children found on his pc", "child pornography"),
    ],
)
def test_wrong_terms_are_named_for_a_kind_correction(text: str, term: str, rules: TriageRules) -> None:
    assert term in triage(text, rules).wrong_terms


@pytest.mark.parametrize(
    "text",
    [
        "she's been subject to a CP plan since june",
        "CP conference next tuesday",
        "we made a cp referral after finding images on his phone",
        "what's the threshold for cp",
        "cp and cin plans",
        "child sexual abuse material",
        "boys in year 11 watching porn on their phones",
        "a child was shown porn by an older cousin",
        "can I share CP minutes with parents",
        "initial CP conference",
    ],
)
def test_child_protection_and_right_terms_are_never_corrected(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).wrong_terms == ()


def test_wrong_terms_are_canonical_forms_never_the_users_words(rules: TriageRules) -> None:
    found = triage("Jade found CHILD-PORNOGRAPHY and kiddy porn on her brother's laptop", rules).wrong_terms
    assert found == ("child pornography", "kiddie porn")


def test_teen_porn_is_corrected_only_about_children(rules: TriageRules) -> None:
    assert triage("teen porn involving a year 9 pupil", rules).wrong_terms == ("teen porn",)
    assert triage("is teen porn legal", rules).wrong_terms == ()


# --------------------------------------------------------------------------------- disclosure


@pytest.mark.parametrize(
    "text",
    [
        "a pupil just told me her stepdad sends her pics",
        "a kid disclosed to me what do i do",
        "disclosure",
        "a child has just told me something",
        "one of my year 9s has disclosed that an older boy is blackmailing her",
        "I've just had a disclosure from a student",
        "a young person came to me after group and said a man on xbox keeps asking for photos",
        "child told me 10 minutes ago that her uncle touches her",
        "just been told by a pupil that someone shared her nudes",
        "a girl in year 7 opened up to me about messages from an adult",
        "disclosure from a pupil, what now?",
        "the yp ive been working with told me during our session that her step dad comes into her room at night",
        "Student came to see me at lunch, said someone's been sharing a video of her",
        "I've just been approached by a year 5 who said a man in a game asked her to take her top off",
        "just had a kid tell me their stepdad films them",
    ],
)
def test_a_fresh_disclosure_starts_the_guide(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent == "disclosure"


@pytest.mark.parametrize(
    "text",
    [
        "how do I respond to a disclosure",
        "what if a child never discloses",
        "what should I do if a pupil tells me they are being groomed",
        "disclosure and barring service",
        "how do i record what a child said in a disclosure",
        "why do children delay disclosing",
        "tips for handling disclosures",
        "staff member just told me the fire alarm is broken",
        "how do I write down what the kid told me",
        "what's the best way to respond to a disclosure",
        "can a child retract a disclosure",
        "what should I say to a child who tells me they have been abused",
        "children who disclose online abuse often feel shame",
    ],
)
def test_general_questions_about_disclosure_never_start_the_guide(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent not in ("disclosure", "disclosure_maybe")


@pytest.mark.parametrize(
    "text",
    [
        "child told me something about a man online",
        "disclosure question",
        "a pupil told me she has a new online friend",
        "a pupil disclosed to me last year and I still think about it",
    ],
)
def test_an_unclear_message_makes_the_bot_ask(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent == "disclosure_maybe"


def test_a_greeting_before_a_disclosure_does_not_hide_it(rules: TriageRules) -> None:
    assert triage("hi, a child has just told me something", rules).intent == "disclosure"


# ------------------------------------------------------------------------- referrals and small talk


@pytest.mark.parametrize(
    "text",
    ["who do i ring", "out of hours who do i call", "referral routes", "contacts", "numbers",
     "who do I contact", "thanks, who do i ring out of hours?", "where can i get advice"],
)  # fmt: skip
def test_the_general_ask_for_contacts_is_referrals(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent == "referrals"


@pytest.mark.parametrize(
    "text",
    ["what is the nspcc number", "who do i speak to about my contract hours", "how do i make a ceop report"],
)
def test_a_named_service_or_an_unrelated_ask_is_not_the_general_referral_list(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent != "referrals"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hi", "greeting"), ("Good morning!", "greeting"), ("hiya", "greeting"),
        ("thanks", "thanks"), ("thank you so much", "thanks"), ("cheers", "thanks"),
        ("help", "help"), ("hlep", "help"), ("what can you do", "help"),
        ("topics", "topics"), ("what topics do you cover", "topics"),
        ("cancel", "cancel"), ("cancle", "cancel"), ("please stop", "cancel"), ("quit", "cancel"),
        ("start again", "restart"), ("strat again", "restart"), ("start over", "restart"),
        ("back", "back"), ("go back", "back"), ("previous step", "back"), ("go bakc", "back"),
        ("so cancel", "cancel"), ("start agian", "restart"), ("thnaks", "thanks"),
    ],
)  # fmt: skip
def test_commands_and_small_talk(text: str, intent: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("y", "yes"), ("yeah", "yes"), ("yep", "yes"), ("yes please", "yes"), ("Yes.", "yes"),
        ("yesss", "yes"), ("yes she is", "yes"),
        ("n", "no"), ("nope", "no"), ("no thanks", "no"), ("no he isn't", "no"), ("nah", "no"),
        ("not sure", "not_sure"), ("dunno", "not_sure"), ("maybe", "not_sure"), ("idk", "not_sure"),
        ("I don't know", "not_sure"), ("no idea", "not_sure"),
    ],
)  # fmt: skip
def test_typed_answers(text: str, intent: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent == intent


@pytest.mark.parametrize(
    "text", ["cancer", "step", "black", "thinks", "ok", "quite", "prefect", "precious", "how do I report to ceop?"]
)
def test_real_words_are_not_mistaken_for_commands(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).intent is None


def test_a_question_after_a_greeting_goes_on_to_the_faq(rules: TriageRules) -> None:
    assert triage("hello, what is sextortion?", rules).intent is None


# ------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("text", "number"),
    [("2", 2), ("2.", 2), ("option 2", 2), ("#3", 3), ("number 4", 4), ("two", 2), ("the second one", 2),
     (" 1) ", 1), ("Option 10", 10)],
)  # fmt: skip
def test_a_bare_number_is_a_choice(text: str, number: int, rules: TriageRules) -> None:
    assert triage(text, rules).choice_number == number


@pytest.mark.parametrize("text", ["0", "999", "101", "2 children told me", "year 2", "25", "one of my pupils"])
def test_numbers_in_sentences_and_service_numbers_are_not_choices(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).choice_number is None


# --------------------------------------------------------------------------- identifying details


@pytest.mark.parametrize(
    "text",
    [
        "Tom Reed dob 01/02/2013 has been sent pics",
        "her date of birth is 3rd March 2012",
        "worried about Priya, 13, who is being messaged by an adult",
        "he lives at 42 Station Road",
        "postcode is SW1A 1AA",
        "the boy's mobile is 07700 900 321",
        "+44 7700 900321 is her number",
        "her email is j.doe2012@example.net",
        "his name is kofi and he is 12",
        "Daniel Okafor has been sharing images",
        "Noah (11) told me",
        "her snapchat username is lily.xo",
        "@jake_2011 keeps messaging her",
        "Lucy, aged 9, told me",
        "Ella Collins has been sending pics",
    ],
)
def test_identifying_details_earn_a_privacy_reminder(text: str, rules: TriageRules) -> None:
    assert triage(text, rules).identifying_details


@pytest.mark.parametrize(
    "text",
    [
        "a girl in year 8",
        "is 0808 800 5000 the nspcc number",
        "childline is 0800 1111",
        "call 999 or 101",
        "is the MASH number 01632 960000",
        "email help@nspcc.org.uk about it",
        "the incident happened on 12/10/2025",
        "Keeping Children Safe in Education says what about records",
        "What Should I Do About A Pupil Sending Nudes",
        "a 15 year old boy",
        "the meeting is at 10 Downing",
        "my colleague Sarah Jones said to ask you",
        "i met with Jane Doe from social care",
        "call the school office on 0113 496 0123",
        "send it to dsl@oakwood.sch.uk",
        "snapchat is dangerous, isn't it?",
        "she goes to St Peter's Academy",
        "what does the Marie Collins Foundation do",
        "she lives at home with her mum",
        "address is unknown",
        "is Stop It Now the same as the Lucy Faithfull Foundation",
    ],
)
def test_service_numbers_dates_and_ages_alone_are_not_identifying(text: str, rules: TriageRules) -> None:
    assert not triage(text, rules).identifying_details


# ------------------------------------------------------------------------------ the result type


def test_the_result_carries_flags_only_never_the_message(rules: TriageRules) -> None:
    text = "Jade Smith dob 04/05/2012 lives at 3 Hill Road, her mobile 07700 900123, found child porn"
    found = triage(text, rules)
    assert [f.name for f in dataclasses.fields(Triage)] == [
        "emergency", "wrong_terms", "intent", "identifying_details", "choice_number", "emergency_by",
    ]  # fmt: skip
    assert found.identifying_details
    for value in dataclasses.astuple(found):
        for word in ("Jade", "Smith", "2012", "07700", "Hill"):
            assert word not in repr(value)


@pytest.mark.parametrize("odd", ["", "   ", "\u200b", "!!!", "😀", "\x00\x01", None, 42, b"help"])
def test_odd_input_is_nothing_and_never_raises(odd: object, rules: TriageRules) -> None:
    found = triage(odd, rules)  # type: ignore[arg-type]
    assert found.emergency is False and found.intent is None and found.wrong_terms == ()


def test_intents_are_from_the_documented_set(rules: TriageRules) -> None:
    samples = ["hi", "thanks", "help", "topics", "contacts", "disclosure", "disclosure question", "cancel",
               "start again", "back", "yes", "no", "not sure", "what is ceop", "bye", "are you a real person"]  # fmt: skip
    assert {triage(s, rules).intent for s in samples} == set(INTENTS) | {None}
