"""Which Kafka errors the topic reader (and the tests' committed-offset helper) ask again after."""

import pytest
from confluent_kafka import KafkaError, KafkaException

from copilot.topic_reader import asked_again, passes


def test_a_partition_or_group_without_its_leader_yet_is_asked_again_even_unflagged_by_librdkafka():
    for code in (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.NOT_COORDINATOR):
        assert not KafkaError(code).retriable()  # librdkafka's flag alone would give up
        assert passes(KafkaException(KafkaError(code)))


def test_an_error_that_stays_is_not():
    assert not passes(KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)))


def test_a_question_is_asked_again_until_its_answer_comes_and_not_after_an_error_that_stays():
    answers = [KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION))] * 2 + [41]
    calls = []

    def ask() -> int:
        calls.append(1)
        answer = answers[len(calls) - 1]
        if isinstance(answer, KafkaException):
            raise answer
        return answer

    assert asked_again(ask) == 41 and len(calls) == 3

    def refused() -> int:
        calls.append(1)
        raise KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))

    calls.clear()
    with pytest.raises(KafkaException):
        asked_again(refused)
    assert len(calls) == 1
