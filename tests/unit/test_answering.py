"""Intent analysis and the extractive answer: only what the sources say, each sentence with its citation."""

import json

from copilot.answering import Source, analyze_intent, cited, extractive_answer, matching_attachments


def test_questions_want_answers_and_listings_want_lists():
    assert analyze_intent("How do I fix SAML login errors?").wants_answer
    assert analyze_intent("why are invoices charged twice").wants_answer
    assert not analyze_intent("show tickets about invoices charged twice").wants_answer
    assert not analyze_intent("SAML login error").wants_answer  # keywords: a search, not a question


def test_types_come_from_the_words_unless_the_caller_names_them():
    assert analyze_intent("SSO fails").types == ("tickets", "solutions")
    assert analyze_intent("is there a KB article on SSO setup?").types[0] == "solutions"
    assert "attachments" in analyze_intent("the screenshot of the SAML error").types
    assert analyze_intent("anything", ["attachments", "tickets"]).types == ("tickets", "attachments")


def test_the_answer_quotes_the_best_matching_sentences_with_their_citations():
    sources = [
        Source("[#12]", "Rotated the expired SAML certificate in the identity provider. Login works again."),
        Source("[KB-3]", "Billing runs monthly. To fix SAML errors, re-upload the IdP certificate."),
        Source("[#40]", "Refunded the duplicate invoice."),
    ]
    answer = extractive_answer("How do I fix a SAML certificate error?", sources)
    assert cited(answer, sources) == ("[#12]", "[KB-3]")
    assert answer == ("Rotated the expired SAML certificate in the identity provider. [#12] "
                      "To fix SAML errors, re-upload the IdP certificate. [KB-3]")


def test_no_matching_source_gives_no_invented_answer():
    sources = [Source("[#1]", "Reset the SAML certificate.")]
    answer = extractive_answer("printer toner", sources)
    assert cited(answer, sources) == () and "No retrieved" in answer


def test_attachments_whose_name_or_type_matches_come_first():
    rows = [{"ticket_id": 1, "attachments": json.dumps([{"name": "invoice.pdf", "content_type": "application/pdf",
                                                         "size": 10}])},
            {"ticket_id": 2, "attachments": json.dumps([{"name": "saml-error.png", "content_type": "image/png",
                                                         "size": 20}])},
            {"ticket_id": 3, "attachments": "[]"}]
    found = matching_attachments("screenshot png of the saml error", rows, limit=5)
    assert [a["ticket_id"] for a in found] == [2, 1]
    assert found[0]["name"] == "saml-error.png"
