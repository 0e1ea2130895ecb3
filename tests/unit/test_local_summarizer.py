from copilot.domain import MergedConversation, MergedDocument, Summary
from copilot.providers.local_summarizer import summarize_locally
from tests.helpers import at


def _doc(conversations, status=4, description="Users cannot sign in with Okta SSO. They see a SAML error."):
    convs = tuple(MergedConversation(i, author, False, at(i), text) for i, (author, text) in enumerate(conversations))
    return MergedDocument(tenant="t", ticket_id=1, subject="SSO login fails", description_text=description,
                          status=status, priority=1, created_at=at(0), updated_at=at(9), seen_at=at(9),
                          content_hash="c", state_hash="s", conversations=convs)


def test_problem_from_customer_cause_and_solution_from_agent():
    summary = summarize_locally(_doc([
        ("agent", "Thanks, since when does this happen?"),
        ("customer", "Since this morning."),
        ("agent", "The issue was caused by an expired signing certificate. "
                  "Upload the new certificate under Admin > Security and save."),
        ("customer", "That fixed it, thanks!"),
    ]))
    assert summary.problem.startswith("SSO login fails.") and "SAML error" in summary.problem
    assert "expired signing certificate" in summary.cause
    assert "Upload the new certificate" in summary.solution
    assert summary.result == "Resolved; the customer confirmed the fix."
    assert summary.summarizer == "local" and summary.language == "en"
    assert summary.confidence == 1.0


def test_open_ticket_without_replies_says_so_and_invents_nothing():
    summary = summarize_locally(_doc([], status=2))
    assert summary.cause == "Not identified in the conversation."
    assert summary.solution == "No solution recorded yet."
    assert summary.result == "Open; unresolved."
    assert isinstance(summary, Summary) and summary.confidence == 0.3


def test_korean_ticket_is_tagged_korean():
    assert summarize_locally(_doc([], description="로그인이 안 됩니다")).language == "ko"


def test_solution_without_a_cue_word_is_the_agents_latest_statement():
    summary = summarize_locally(_doc([
        ("agent", "Could you send the logs?"),
        ("agent", "We found the cause: two integrations share the limit. Spread the sync over the hour."),
    ], status=2))
    assert summary.solution == "Spread the sync over the hour."
    assert summary.cause.startswith("two integrations share the limit")
