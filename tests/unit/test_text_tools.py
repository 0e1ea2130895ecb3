from copilot.documents import clip_bytes
from copilot.redact import redact
from copilot.tokens import Tokenizer, tokenizer_for


def test_redact_removes_personal_data_and_keys():
    text = ("Mail jane.doe@example.com or call +1 415 555 0100; card 4111 1111 1111 1111; "
            "key sk_live_abc123def456ghi. Order 1234 shipped.")
    out = redact(text)
    for secret in ("jane.doe@example.com", "415 555 0100", "4111 1111 1111 1111", "sk_live_abc123def456ghi"):
        assert secret not in out
    assert "[EMAIL]" in out and "[PHONE]" in out and "[CARD]" in out and "[API_KEY]" in out
    assert "Order 1234 shipped." in out


def test_chunks_count_the_models_tokens_respect_the_limit_and_keep_all_text():
    tokenizer = tokenizer_for("gpt-4o-mini")
    assert tokenizer.exact, "scripts/tokenizer_data.py (run by `make`) installs the vocabulary"
    assert tokenizer.count("hello world, SSO login fails") == 7  # o200k_base, as OpenAI counts it
    paragraphs = [f"paragraph {i} " + "word " * 120 for i in range(40)] + ["y" * 2500, "설정 오류 " * 200]
    chunks = tokenizer.chunks("\n\n".join(paragraphs), 300)
    assert len(chunks) > 10 and all(tokenizer.count(c) <= 300 for c in chunks)
    assert "".join(chunks).replace("\n\n", "") == "".join(paragraphs)


def test_without_the_vocabulary_counts_are_estimated_not_downloaded():
    estimate = Tokenizer(None)
    assert not estimate.exact and estimate.count("x" * 10) == 3
    assert all(len(c) <= 400 for c in estimate.chunks("\n\n".join(["z" * 900] * 3), 100))


def test_clip_bytes_never_splits_a_character():
    assert clip_bytes("가나다", 4) == "가"
    assert clip_bytes("abc", 10) == "abc"
