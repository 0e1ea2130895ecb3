"""Which Kafka errors the topic reader (and the tests' committed-offset helper) ask again after."""

from confluent_kafka import KafkaError, KafkaException

from copilot.topic_reader import passes


def test_a_partition_or_group_without_its_leader_yet_is_asked_again_even_unflagged_by_librdkafka():
    for code in (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.NOT_COORDINATOR):
        assert not KafkaError(code).retriable()  # librdkafka's flag alone would give up
        assert passes(KafkaException(KafkaError(code)))


def test_an_error_that_stays_is_not():
    assert not passes(KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)))
