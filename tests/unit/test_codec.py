import io
import json
from datetime import UTC, datetime

import fastavro
import pytest
from fastavro.schema import fingerprint, to_parsing_canonical_form
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.domain import Attachment, DeadLetter, SummarizedDocument, TicketEvent, to_record
from copilot.errors import SerializationError
from copilot.wire import deserialize, serialize
from schemas import SCHEMA_DIR
from schemas.codec import MARKER, AvroCodec
from streams.merging import JoinState, apply_ticket, merged_document
from tests.helpers import conversation, ticket

millis = st.integers(min_value=0, max_value=4_102_444_800_000).map(
    lambda ms: datetime.fromtimestamp(ms / 1000, UTC))
text = st.text(max_size=200)


@settings(max_examples=60, deadline=None)
@given(subject=text, description=text, tags=st.lists(text, max_size=4), updated=millis, seen=millis,
       conv_ids=st.lists(st.integers(min_value=1, max_value=2**62), max_size=5),
       att=st.lists(st.builds(Attachment, st.integers(0, 2**62), text, text, st.integers(0, 2**40)), max_size=3))
def test_ticket_event_round_trips(subject, description, tags, updated, seen, conv_ids, att):
    event = ticket(subject=subject, description_text=description, tags=tuple(tags), updated_at=updated,
                   seen_at=seen, conversation_ids=tuple(conv_ids), attachments=tuple(att))
    assert deserialize(TicketEvent, serialize(event)) == event


def test_messages_carry_the_single_object_header_and_fingerprint():
    codec = AvroCodec()
    data = serialize(conversation(5))
    assert data[:2] == MARKER
    assert data[2:10] == codec.fingerprint_of("ConversationEvent")


def test_bytes_of_another_contract_or_garbage_are_rejected():
    with pytest.raises(SerializationError):
        deserialize(TicketEvent, serialize(conversation(5)))
    with pytest.raises(SerializationError, match="bad marker"):
        deserialize(TicketEvent, b"not avro at all")
    with pytest.raises(SerializationError, match="fingerprint"):
        deserialize(TicketEvent, MARKER + b"\x00" * 8 + b"\x02")


def test_dead_letter_keeps_raw_bytes_and_headers():
    letter = DeadLetter("merge", "boom", "t", 1, 42, b"k", b"\xff\x00", failed_at=datetime(2026, 1, 1, tzinfo=UTC),
                        headers={"copilot-revision": b"17"})
    assert deserialize(DeadLetter, serialize(letter)) == letter


def test_a_dead_letter_written_before_letters_kept_headers_is_read_with_none():
    letter = DeadLetter("summarize-deferred", "boom", "t", 1, 42, b"k", b"v",
                        failed_at=datetime(2026, 1, 1, tzinfo=UTC))
    old = {name: value for name, value in to_record(letter).items() if name != "headers"}
    data = _written_with(json.loads((SCHEMA_DIR / "history" / "DeadLetter.v1.avsc").read_text()), old)
    assert AvroCodec().fingerprint_of("DeadLetter") != data[2:10]
    assert deserialize(DeadLetter, data) == letter


def test_a_message_written_with_an_older_schema_version_is_still_read(tmp_path, monkeypatch):
    """An older producer wrote TicketEvent without `spam`; the current reader fills the default."""
    current = json.loads((SCHEMA_DIR / "ticket_event.avsc").read_text())
    older = {**current, "fields": [f for f in current["fields"] if f["name"] != "spam"]}
    monkeypatch.setattr("schemas.codec.SCHEMA_DIR", tmp_path)
    (tmp_path / "history").mkdir()
    for path in SCHEMA_DIR.glob("*.avsc"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "ticket_event.avsc").write_text(json.dumps(older))
    old_writer = AvroCodec()  # a codec whose current TicketEvent is the old version
    record = {k: v for k, v in _record(ticket(spam=True)).items() if k != "spam"}
    data = old_writer.encode("TicketEvent", record)

    (tmp_path / "ticket_event.avsc").write_text(json.dumps(current))
    (tmp_path / "history" / "TicketEvent.v1.avsc").write_text(json.dumps(older))
    reader = AvroCodec()
    decoded = reader.decode("TicketEvent", data)
    assert decoded["spam"] is False and decoded["subject"] == "SSO login fails"
    assert reader.fingerprint_of("TicketEvent") != data[2:10]


@pytest.mark.parametrize("record", ["MergedDocument", "SummarizedDocument"])
def test_documents_written_before_the_assignment_fields_are_read_without_them(record):
    """Real history: merged and summarized documents written before group_id/responder_id existed."""
    doc = merged_document(apply_ticket(JoinState(), ticket(group_id=5, responder_id=70)))
    value = to_record(SummarizedDocument(doc, None) if record == "SummarizedDocument" else doc)
    data = _written_with(json.loads((SCHEMA_DIR / "history" / f"{record}.v1.avsc").read_text()), value,
                         _current_named())
    codec = AvroCodec()
    assert codec.fingerprint_of(record) != data[2:10]
    decoded = codec.decode(record, data)
    document = decoded["document"] if record == "SummarizedDocument" else decoded
    assert (document["group_id"], document["responder_id"]) == (None, None)
    assert document["subject"] == doc.subject


def _written_with(schema: dict, value: dict, named: dict | None = None) -> bytes:
    """`value` as a producer with `schema` as its current version wrote it (dropping the fields it lacks)."""
    parsed = fastavro.parse_schema(schema, named_schemas=named or {})
    data = io.BytesIO()
    data.write(MARKER + bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO")))
    fastavro.schemaless_writer(data, parsed, value)
    return data.getvalue()


def _current_named():
    named: dict = {}
    for stem in ("attachment", "merged_conversation", "summary"):
        fastavro.parse_schema(json.loads((SCHEMA_DIR / f"{stem}.avsc").read_text()), named_schemas=named)
    return named


def _record(event):
    return to_record(event)
