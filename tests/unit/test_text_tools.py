from copilot.documents import clip_bytes
from copilot.providers.llm_summarizer import split_chunks
from copilot.redact import redact


def test_redact_removes_personal_data_and_keys():
    text = ("Mail jane.doe@example.com or call +1 415 555 0100; card 4111 1111 1111 1111; "
            "key sk_live_abc123def456ghi. Order 1234 shipped.")
    out = redact(text)
    for secret in ("jane.doe@example.com", "415 555 0100", "4111 1111 1111 1111", "sk_live_abc123def456ghi"):
        assert secret not in out
    assert "[EMAIL]" in out and "[PHONE]" in out and "[CARD]" in out and "[API_KEY]" in out
    assert "Order 1234 shipped." in out


def test_chunks_respect_the_limit_and_keep_all_text():
    paragraphs = [f"paragraph {i} " + "x" * 300 for i in range(40)] + ["y" * 2500]
    chunks = split_chunks("\n\n".join(paragraphs), 1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert "".join(chunks).replace("\n\n", "") == "".join(paragraphs)


def test_clip_bytes_never_splits_a_character():
    assert clip_bytes("가나다", 4) == "가"
    assert clip_bytes("abc", 10) == "abc"
