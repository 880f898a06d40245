//! The server-side CEP consumer: reads `auren.beats`, runs each session's beats through a [`SessionFeed`]
//! (the desktop's rule engine, fed as the desktop feeds it) and writes the alerts into `alerts` with
//! `origin = 'server'`, bumping the user's version so the user's devices pull them, and wakes the user's
//! long polls as a push does (without it a parked device saw a server alert only at its poll's timeout).
//!
//! The rules are the person's own ([`person_rules`]): the rules setting their devices synced, compiled per
//! stored version, or the default rules given at start for a person who never edited theirs (and, logged
//! and counted, for stored rules this build cannot compile). A person's rules are read when a session opens,
//! so an edit applies from the next session.
//!
//! The rules see the person's baselines as of the session's start, as the desktop's do: the normal range
//! and resting HR from the user's synced morning readings up to the session's day, through the desktop's
//! own function (`auren_cep::baseline::morning_baselines`). Without them a rule comparing with the normal
//! range (`cns_fatigue`) never fired server-side.
//!
//! Exactly-once effects without Kafka transactions: an alert's natural key `(user, rule, window_start_ms)`
//! makes a second insert a no-op, and offsets are stored only after the alerts' transaction committed. The
//! offset stored for a partition is the first offset of the oldest session still open on it, so a consumer
//! that restarts re-reads every open session from its first chunk and rebuilds the detector exactly (the
//! alerts it re-finds insert nothing). A message whose outbox id ([`super::OUTBOX_ID_HEADER`]) was seen
//! lately is a row the relay sent again and is skipped whole; a chunk seen twice some other way (an older
//! message without the header, a restart re-reading a session) is recognised by its position in the
//! session and skipped. Without the id check a re-sent batch of an earlier session would end the device's
//! current session early and feed the old one again from its middle.
//!
//! The server processes of one group share the partitions (a user's messages are all on one partition, keyed
//! by user, so a user's sessions are fed by one process): not through Kafka's group membership, which the
//! broker (tansu) handles poorly, but by PostgreSQL advisory locks ([`claim`]). Within a process, sessions
//! are fed by one shard per core ([`shard_count`]): a
//! user's chunks always go to the same shard, in the order read, so each user's sessions are fed in order
//! (a device's new session still ends its previous one first) while other users' sessions are fed on the
//! other cores. Feeding the rules is CPU work (one core fed ~220k beats/s, issue 13; the server ingests
//! more). Offsets follow the shards: a partition's stored offset never passes a chunk a shard has not
//! finished (alerts written) nor the first chunk of a session still open ([`OffsetBook`]).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auren_cep::baseline::{MORNING_SPAN_DAYS, MorningValues, morning_baselines};
use auren_cep::{Alert, Baselines, RuleSet, SessionKind};
use auren_clock::UnixMillis;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::ComponentStatus;
use crate::redis::Wake;
use crate::topics::{ALERTS_TOPIC, AlertRecord, BEATS_TOPIC, BeatsChunk, BeatsReadError, read_beats};
use auren_protocol::AlertChange;

use super::feed::{ChunkFed, SessionFeed};
use super::{KafkaConfig, KafkaError, METADATA_TIMEOUT, causes, outbox_id, partitions_of};

mod claim;
mod person_rules;

use claim::{GroupKeys, Member};
use person_rules::RulesBook;

/// The consumer group of the server-side CEP consumer.
pub const CONSUMER_GROUP: &str = "auren-server-cep";
/// How often a member holding no partition tries to claim again.
const STANDBY_POLL: Duration = Duration::from_secs(1);
/// Pause after a failed term (the broker or PostgreSQL away) before asking for the lock again.
const TERM_RETRY: Duration = Duration::from_secs(1);
/// How often the leader writes its offsets (and so learns whether it still holds the lock).
const OFFSET_FLUSH: Duration = Duration::from_secs(1);
/// How often a member reads the topic's partition count again: it claims its part of the partitions an
/// operator added within its term, at the next census.
pub const PARTITION_CHECK: Duration = Duration::from_secs(10);
/// How often idle sessions are looked for.
const IDLE_SWEEP: Duration = Duration::from_secs(5);
/// Pause before retrying a failed alert write (the message is not skipped).
const WRITE_RETRY: Duration = Duration::from_millis(500);
/// Outbox ids remembered to recognise a re-sent row (a re-send follows its first copy within a relay
/// round or two, far fewer messages than this).
const RECENT_IDS: usize = 100_000;
/// Shards at most, whatever the core count.
const MAX_SHARDS: usize = 16;
/// Chunks queued per shard before the reader waits (back-pressure on the broker instead of memory).
const SHARD_QUEUE: usize = 64;

/// Starts consumers: [`AlertConsumer::spawn`].
#[derive(Debug)]
pub struct AlertConsumer;

/// A running consumer.
#[derive(Debug)]
pub struct ConsumerHandle {
    task: JoinHandle<()>,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    status: Mutex<ComponentStatus>,
    chunks: AtomicU64,
    resent: AtomicU64,
    alerts: AtomicU64,
    open_sessions: AtomicUsize,
    rules_fallbacks: AtomicU64,
    /// The partitions this process reads now, ascending.
    partitions: Mutex<Vec<i32>>,
    /// Terms begun (a term ends when the member gives its partitions back, or fails).
    terms: AtomicU64,
}

impl ConsumerHandle {
    /// For `/readyz`.
    pub fn status(&self) -> ComponentStatus {
        self.shared
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or(ComponentStatus::Down {
                reason: "consumer state unreadable".to_owned(),
            })
    }

    /// Beat chunks processed since start (duplicates included).
    pub fn chunks(&self) -> u64 {
        self.shared.chunks.load(Ordering::Relaxed)
    }

    /// Messages skipped whole since start because their outbox id came again (a row the relay re-sent).
    pub fn resent(&self) -> u64 {
        self.shared.resent.load(Ordering::Relaxed)
    }

    /// Alerts newly inserted since start (re-found ones excluded).
    pub fn alerts_inserted(&self) -> u64 {
        self.shared.alerts.load(Ordering::Relaxed)
    }

    /// Times a person's stored rules could not be used and the defaults ran instead (once per stored
    /// version), since start.
    pub fn rules_fallbacks(&self) -> u64 {
        self.shared.rules_fallbacks.load(Ordering::Relaxed)
    }

    /// The partitions of `auren.beats` this process reads now, ascending (its share of its group's; none
    /// standing by).
    pub fn partitions(&self) -> Vec<i32> {
        self.shared
            .partitions
            .lock()
            .map(|held| held.clone())
            .unwrap_or_default()
    }

    /// Terms begun since start: one per claim that began reading, not per partition added to a running term
    /// (so a member taking over a dead one's partitions without dropping its own sessions counts none).
    pub fn terms(&self) -> u64 {
        self.shared.terms.load(Ordering::Relaxed)
    }

    /// Sessions being fed now (finished ones are dropped).
    pub fn open_sessions(&self) -> usize {
        self.shared.open_sessions.load(Ordering::Relaxed)
    }

    /// Waits for the task to end (after its shutdown token was cancelled).
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "alert consumer task failed");
        }
    }
}

impl AlertConsumer {
    /// Starts consuming `auren.beats` until `shutdown`, running each person's own rules, or `rules` (the
    /// defaults) for a person who has none; alerts go to `pool` (the owner pool:
    /// the consumer writes for every user, setting `app.user_id` per transaction all the same) and each
    /// write with new alerts notifies `wake`.
    pub fn spawn(
        pool: PgPool,
        config: &KafkaConfig,
        rules: RuleSet,
        wake: Wake,
        shutdown: CancellationToken,
    ) -> Result<ConsumerHandle, KafkaError> {
        // The client's settings are checked now, so a bad one is an error at start; each term makes its own.
        drop(beats_reader(config)?);
        let shared = Arc::new(Shared {
            status: Mutex::new(ComponentStatus::Up),
            chunks: AtomicU64::new(0),
            resent: AtomicU64::new(0),
            alerts: AtomicU64::new(0),
            open_sessions: AtomicUsize::new(0),
            rules_fallbacks: AtomicU64::new(0),
            partitions: Mutex::new(Vec::new()),
            terms: AtomicU64::new(0),
        });
        let group = Group {
            keys: GroupKeys::of(&config.consumer_group),
            pool,
            config: config.clone(),
            rules,
            wake,
            shared: Arc::clone(&shared),
        };
        let task = tokio::spawn(group.supervise(shutdown));
        Ok(ConsumerHandle { task, shared })
    }
}

/// A client reading `auren.beats` by assignment: it never subscribes, so it joins no Kafka consumer group and
/// no broker's group coordinator decides who reads what (the [`Group`]'s lock does), and it commits nothing
/// to the broker. (librdkafka refuses an assignment without a `group.id`, which is all the id is for here.)
fn beats_reader(config: &KafkaConfig) -> Result<StreamConsumer, KafkaError> {
    config
        .client()
        .set("group.id", &config.consumer_group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .create()
        .map_err(|source| config.client_error(source))
}

/// One consumer group's reading of `auren.beats`, shared across server processes by PostgreSQL advisory
/// locks ([`claim`]): each process claims its share of the partitions and reads them.
///
/// Why not Kafka's group membership: a server process that dies keeps its partitions until its session
/// times out, and on tansu a group whose members were SIGKILLed did not recover at all — its coordinator
/// answered the new leader's SyncGroup with one partition of the three it had assigned itself, and the
/// others went unread for good (seen in `faults::`, with librdkafka's `debug=cgrp`: two of five accounts got
/// no server alert). An advisory lock goes with its connection, at once, whatever killed the process. A
/// member reads its partitions, feeding sessions on one shard per core, and keeps its offsets in
/// `consumer_offsets` (migrations/server/0012_consumer_offsets.sql), written on the locks' connection: a
/// member that lost its locks (PostgreSQL restarted, the connection cut) fails its next write and ends its
/// term, and a write that reaches PostgreSQL comes from the partitions' holder. More server processes read
/// more partitions at once (up to one each); a member beyond the partition count stands by.
struct Group {
    pool: PgPool,
    config: KafkaConfig,
    rules: RuleSet,
    wake: Wake,
    shared: Arc<Shared>,
    keys: GroupKeys,
}

/// This process in its group: its member connection and its reader of `auren.beats`, kept across terms (a
/// failure drops both, and the next turn starts afresh).
struct Seat {
    member: Member,
    consumer: Arc<StreamConsumer>,
}

impl Group {
    /// Reads whatever share this process can claim, until `shutdown`.
    async fn supervise(self, shutdown: CancellationToken) {
        let mut seat = None;
        while !shutdown.is_cancelled() {
            let pause = match self.turn(&mut seat, &shutdown).await {
                Ok(pause) => pause,
                Err(e) => {
                    // The member's connection or the reader may be what failed: both are made again.
                    if let Some(gone) = seat.take() {
                        gone.member.leave().await;
                    }
                    let reason = causes(&e);
                    tracing::warn!(%reason, "the alert consumer stopped; it starts again");
                    set_status(
                        &self.shared,
                        ComponentStatus::Degraded {
                            reason: format!("consumer: {reason}"),
                        },
                    );
                    TERM_RETRY
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        if let Some(seat) = seat {
            seat.member.leave().await;
        }
    }

    /// One turn: a term over the partitions this member could claim (then claims again at once: shut down,
    /// or the group changed), or, with none free, the standby's pause.
    async fn turn(
        &self,
        seat: &mut Option<Seat>,
        shutdown: &CancellationToken,
    ) -> Result<Duration, KafkaError> {
        let seat = match seat {
            Some(seat) => seat,
            None => seat.insert(Seat {
                consumer: Arc::new(beats_reader(&self.config)?),
                member: Member::join(&self.pool, self.keys)
                    .await
                    .map_err(KafkaError::Database)?,
            }),
        };
        let partitions = partition_count(Arc::clone(&seat.consumer))
            .await
            .map_err(|source| self.config.client_error(source))?;
        let held = seat
            .member
            .claim(partitions)
            .await
            .map_err(KafkaError::Database)?;
        if held.is_empty() {
            set_status(&self.shared, ComponentStatus::Up);
            return Ok(STANDBY_POLL);
        }
        let claim = Claim {
            member: &mut seat.member,
            held,
            partitions,
            config: &self.config,
            shared: &self.shared,
        };
        self.term(&seat.consumer, claim, shutdown).await?;
        Ok(Duration::ZERO)
    }

    /// Reads the claimed partitions from the group's stored offsets until `shutdown`, until the group
    /// changes (then gives them back), or until the locks are lost (an error).
    async fn term(
        &self,
        consumer: &Arc<StreamConsumer>,
        mut claim: Claim<'_>,
        shutdown: &CancellationToken,
    ) -> Result<(), KafkaError> {
        let group = self.config.consumer_group.clone();
        let held = claim.held.clone();
        let list = claim.start_offsets(consumer, &held).await?;
        consumer
            .assign(&list)
            .map_err(|source| self.config.client_error(source))?;
        self.shared.terms.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%group, partitions = ?claim.held, of = claim.partitions, "this server's alert consumer reads auren.beats");
        set_partitions(&self.shared, &claim.held);
        set_status(&self.shared, ComponentStatus::Up);
        // Ends the shards with the term, as a process' end would.
        let term = shutdown.child_token();
        let book = Arc::new(Mutex::new(OffsetBook::default()));
        let mut queues = Vec::new();
        let mut shards = Vec::new();
        for _ in 0..shard_count() {
            let (tx, rx) = mpsc::channel(SHARD_QUEUE);
            let shard = Shard {
                pool: self.pool.clone(),
                wake: self.wake.clone(),
                rules: RulesBook::new(self.rules.clone()),
                session_idle: self.config.session_idle,
                sessions: HashMap::new(),
                book: Arc::clone(&book),
                shared: Arc::clone(&self.shared),
            };
            queues.push(tx);
            shards.push(tokio::spawn(shard.run(rx, term.clone())));
        }
        let reader = Reader {
            queues,
            hasher: std::hash::RandomState::new(),
            recent: RecentIds::default(),
            book,
            shared: Arc::clone(&self.shared),
        };
        let ended = run(consumer, reader, shards, &mut claim, term).await;
        // Stop fetching what this member gives back (a reader keeps filling its queue otherwise).
        if let Err(e) = consumer.unassign() {
            tracing::debug!(error = %e, "the alert consumer's reader kept its assignment");
        }
        set_partitions(&self.shared, &[]);
        ended?;
        claim.release().await.map_err(KafkaError::Database)
    }
}

/// The partitions of `auren.beats`, from the broker's metadata (a blocking call, run off the async threads).
async fn partition_count(consumer: Arc<StreamConsumer>) -> Result<i32, rdkafka::error::KafkaError> {
    let count = tokio::task::spawn_blocking(move || {
        consumer
            .fetch_metadata(Some(BEATS_TOPIC), METADATA_TIMEOUT)
            .map(|metadata| partitions_of(&metadata, BEATS_TOPIC))
    })
    .await
    .map_err(|_| rdkafka::error::KafkaError::Canceled)??;
    count.ok_or(rdkafka::error::KafkaError::MetadataFetch(
        rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition,
    ))
}

/// The offsets the broker holds for the group on `partitions` (committed by a server of before 0012, which
/// read through Kafka's group membership), so an upgraded server goes on where the old one was instead of
/// reading the topic from its start again; none where the broker has none or does not answer.
async fn broker_offsets(consumer: Arc<StreamConsumer>, partitions: Vec<i32>) -> HashMap<i32, i64> {
    if partitions.is_empty() {
        return HashMap::new();
    }
    let committed = tokio::task::spawn_blocking(move || {
        let mut list = TopicPartitionList::new();
        for partition in partitions {
            list.add_partition(BEATS_TOPIC, partition);
        }
        consumer.committed_offsets(list, METADATA_TIMEOUT)
    })
    .await;
    match committed {
        Ok(Ok(list)) => list
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(at) => Some((e.partition(), at)),
                _ => None,
            })
            .collect(),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "the broker's committed offsets are unknown; reading from the start");
            HashMap::new()
        }
        Err(_) => HashMap::new(),
    }
}

/// A member's term: the partitions it holds, out of how many.
struct Claim<'a> {
    member: &'a mut Member,
    held: Vec<i32>,
    partitions: i32,
    config: &'a KafkaConfig,
    shared: &'a Shared,
}

impl Claim<'_> {
    /// Where to start reading `partitions`: the group's stored offsets, else (a partition this group never
    /// stored) where a server of before 0012 committed it on the broker, else the beginning.
    async fn start_offsets(
        &mut self,
        consumer: &Arc<StreamConsumer>,
        partitions: &[i32],
    ) -> Result<TopicPartitionList, KafkaError> {
        let stored = super::stored_offsets(self.member.conn(), &self.config.consumer_group)
            .await
            .map_err(KafkaError::Database)?;
        let unstored = partitions
            .iter()
            .copied()
            .filter(|p| !stored.contains_key(p))
            .collect();
        let seeded = broker_offsets(Arc::clone(consumer), unstored).await;
        let mut list = TopicPartitionList::new();
        for &partition in partitions {
            let offset = stored
                .get(&partition)
                .or_else(|| seeded.get(&partition))
                .map_or(Offset::Beginning, |&o| Offset::Offset(o));
            list.add_partition_offset(BEATS_TOPIC, partition, offset)
                .map_err(|source| self.config.client_error(source))?;
        }
        Ok(list)
    }

    /// Writes what [`OffsetBook::to_store`] says a restart must re-read from, on the locks' connection; an
    /// error means the locks are gone with it (or may be), and the term ends.
    async fn write(&mut self, book: &Mutex<OffsetBook>) -> Result<(), KafkaError> {
        let Ok(offsets) = book.lock().map(|book| book.to_store()) else {
            return Ok(());
        };
        let (partitions, next): (Vec<i32>, Vec<i64>) = offsets.into_iter().unzip();
        sqlx::query(
            "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) \
             SELECT $1, $2, p, o FROM UNNEST($3::int[], $4::bigint[]) AS u(p, o) \
             ON CONFLICT (consumer_group, topic, partition) \
             DO UPDATE SET next_offset = excluded.next_offset, updated_at = clock_timestamp()",
        )
        .bind(&self.config.consumer_group)
        .bind(BEATS_TOPIC)
        .bind(&partitions)
        .bind(&next)
        .execute(self.member.conn())
        .await
        .map_err(KafkaError::Database)?;
        Ok(())
    }

    /// Takes the group's census and follows it: claims more partitions and adds them to the reader, or gives
    /// some away (either way the sessions being fed go on), or says the term must end (true).
    async fn follow_census(
        &mut self,
        consumer: &Arc<StreamConsumer>,
        reader: &Reader,
    ) -> Result<bool, KafkaError> {
        let census = self.member.census().await.map_err(KafkaError::Database)?;
        match claim::step(self.held.len(), self.partitions, census) {
            claim::Step::Keep => Ok(false),
            claim::Step::Release => Ok(true),
            claim::Step::Shrink { keep } => self.shrink(keep, consumer, reader).await,
            claim::Step::Grow => {
                let more = self
                    .member
                    .claim_more(self.partitions, census, &self.held)
                    .await
                    .map_err(KafkaError::Database)?;
                if more.is_empty() {
                    return Ok(false);
                }
                // Locks held for partitions not read would stall them: an error here ends the term, and
                // the member's connection (and its locks) with it.
                let list = self.start_offsets(consumer, &more).await?;
                consumer
                    .incremental_assign(&list)
                    .map_err(|source| self.config.client_error(source))?;
                self.held.extend(more);
                self.held.sort_unstable();
                tracing::info!(group = %self.config.consumer_group, partitions = ?self.held, "this member reads more partitions of auren.beats");
                set_partitions(self.shared, &self.held);
                Ok(false)
            }
        }
    }

    /// Gives away all but `keep` partitions, those whose next holder has the least to read again
    /// ([`partitions_to_give`]): stops reading them, has the shards feed what is
    /// queued of them and drop their sessions unfinished, writes their offsets (which still name those
    /// sessions' first chunks, for the next holder), forgets them and releases their locks. True (the term
    /// ends, and gives everything back) if a shard is gone.
    async fn shrink(
        &mut self,
        keep: usize,
        consumer: &Arc<StreamConsumer>,
        reader: &Reader,
    ) -> Result<bool, KafkaError> {
        // `held` keeps them until their locks go, so a term ending half-way still releases them.
        let give = match reader.book.lock() {
            Ok(book) => partitions_to_give(&self.held, keep, &book.rereads()),
            Err(_) => return Ok(true),
        };
        let mut list = TopicPartitionList::new();
        for &partition in &give {
            list.add_partition(BEATS_TOPIC, partition);
        }
        consumer
            .incremental_unassign(&list)
            .map_err(|source| self.config.client_error(source))?;
        let partitions: Arc<[i32]> = give.clone().into();
        let mut acks = Vec::with_capacity(reader.queues.len());
        for queue in &reader.queues {
            let (done, ack) = tokio::sync::oneshot::channel();
            let job = ShardJob::LetGo {
                partitions: Arc::clone(&partitions),
                done,
            };
            if queue.send(job).await.is_err() {
                return Ok(true);
            }
            acks.push(ack);
        }
        for ack in acks {
            if ack.await.is_err() {
                return Ok(true);
            }
        }
        self.write(&reader.book).await?;
        if let Ok(mut book) = reader.book.lock() {
            book.forget(&give);
        }
        self.member.unclaim(&give).await.map_err(KafkaError::Database)?;
        self.held.retain(|partition| !give.contains(partition));
        tracing::info!(group = %self.config.consumer_group, gave = ?give, partitions = ?self.held, "this member gave partitions of auren.beats to another");
        set_partitions(self.shared, &self.held);
        Ok(false)
    }

    /// Gives the partitions back once their last offsets are written.
    async fn release(self) -> Result<(), sqlx::Error> {
        self.member.unclaim(&self.held).await
    }
}

/// Which of `held` a member keeping `keep` gives away: those with the fewest messages for their next holder
/// to read again (`rereads`, from [`OffsetBook::rereads`]; a partition not read yet costs nothing), so a
/// newcomer takes over partitions whose sessions are short or closed rather than hours of a long one. Ties go
/// by partition, highest first. Returned ascending.
fn partitions_to_give(held: &[i32], keep: usize, rereads: &HashMap<i32, i64>) -> Vec<i32> {
    let mut by_cost: Vec<(i64, std::cmp::Reverse<i32>)> = held
        .iter()
        .map(|&p| (rereads.get(&p).copied().unwrap_or(0), std::cmp::Reverse(p)))
        .collect();
    by_cost.sort_unstable();
    let mut give: Vec<i32> = by_cost
        .into_iter()
        .take(held.len().saturating_sub(keep))
        .map(|(_, std::cmp::Reverse(p))| p)
        .collect();
    give.sort_unstable();
    give
}

/// A session being fed.
struct OpenSession {
    feed: SessionFeed,
    user: Uuid,
    device: Uuid,
    session_key: String,
    started_at_ms: i64,
    partition: i32,
    first_offset: i64,
    seen: Instant,
}

/// Reads `auren.beats`: drops re-sent rows, hands each chunk to its user's shard, stores offsets.
struct Reader {
    queues: Vec<mpsc::Sender<ShardJob>>,
    hasher: std::hash::RandomState,
    recent: RecentIds,
    book: Arc<Mutex<OffsetBook>>,
    shared: Arc<Shared>,
}

/// A chunk for a shard, with the message it came in.
#[expect(
    clippy::large_enum_variant,
    reason = "almost every job is a chunk: boxing it would allocate per chunk for a rare control message"
)]
enum ShardJob {
    /// A chunk read at `offset` of `partition`.
    Chunk {
        chunk: BeatsChunk,
        partition: i32,
        offset: i64,
    },
    /// The member gives these partitions to another: drop their sessions unfinished (the next holder reads
    /// them again from their first chunk, which the stored offset still names), then say so. Sent after
    /// every chunk of theirs already queued, so those are fed first.
    LetGo {
        partitions: Arc<[i32]>,
        done: tokio::sync::oneshot::Sender<()>,
    },
}

/// One shard's sessions: those of the users whose chunks it is handed.
struct Shard {
    pool: PgPool,
    wake: Wake,
    rules: RulesBook,
    session_idle: Duration,
    sessions: HashMap<(Uuid, String), OpenSession>,
    book: Arc<Mutex<OffsetBook>>,
    shared: Arc<Shared>,
}

/// What a restart must re-read, per partition: the offset after the last message read, held back by the
/// chunks handed to shards and not finished, and by the first chunk of every open session.
#[derive(Debug, Default)]
struct OffsetBook {
    next: HashMap<i32, i64>,
    /// (partition, offset) → chunks of that message not finished.
    in_flight: BTreeMap<(i32, i64), usize>,
    /// (partition, first offset) → open sessions that started there.
    open: BTreeMap<(i32, i64), usize>,
}

impl OffsetBook {
    /// A message was read; `chunks` of it go to shards.
    fn read(&mut self, partition: i32, offset: i64, chunks: usize) {
        self.next.insert(partition, offset + 1);
        if chunks > 0 {
            *self.in_flight.entry((partition, offset)).or_default() += chunks;
        }
    }

    /// A shard finished one chunk of the message.
    fn finished(&mut self, partition: i32, offset: i64) {
        release(&mut self.in_flight, (partition, offset));
    }

    /// A session starting at this message is open (called before its chunk is finished).
    fn opened(&mut self, partition: i32, first_offset: i64) {
        *self.open.entry((partition, first_offset)).or_default() += 1;
    }

    /// A session starting at this message was closed, its last alerts written.
    fn closed(&mut self, partition: i32, first_offset: i64) {
        release(&mut self.open, (partition, first_offset));
    }

    /// Forgets `partitions` (given to another member, their offsets written): this member must never write
    /// them again.
    fn forget(&mut self, partitions: &[i32]) {
        self.next.retain(|partition, _| !partitions.contains(partition));
        self.in_flight
            .retain(|(partition, _), _| !partitions.contains(partition));
        self.open
            .retain(|(partition, _), _| !partitions.contains(partition));
    }

    /// Per partition read, how many messages a new holder would read again: from the stored offset (held back
    /// by open sessions and unfinished chunks) to where this member has read.
    fn rereads(&self) -> HashMap<i32, i64> {
        self.to_store()
            .into_iter()
            .map(|(partition, stored)| {
                let next = self.next.get(&partition).copied().unwrap_or(stored);
                (partition, next - stored)
            })
            .collect()
    }

    /// The offset to store per partition.
    fn to_store(&self) -> Vec<(i32, i64)> {
        let held = |map: &BTreeMap<(i32, i64), usize>, partition: i32| {
            map.range((partition, i64::MIN)..=(partition, i64::MAX))
                .next()
                .map(|(&(_, offset), _)| offset)
        };
        self.next
            .iter()
            .map(|(&partition, &next)| {
                let offset = [held(&self.in_flight, partition), held(&self.open, partition)]
                    .into_iter()
                    .flatten()
                    .fold(next, i64::min);
                (partition, offset)
            })
            .collect()
    }
}

fn release(map: &mut BTreeMap<(i32, i64), usize>, key: (i32, i64)) {
    if let Some(count) = map.get_mut(&key) {
        *count -= 1;
        if *count == 0 {
            map.remove(&key);
        }
    }
}

/// Shards to feed sessions on: one per core the process may use, at most [`MAX_SHARDS`].
fn shard_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, MAX_SHARDS)
}

/// The last [`RECENT_IDS`] outbox ids handled.
#[derive(Default)]
struct RecentIds {
    set: HashSet<i64>,
    order: VecDeque<i64>,
}

impl RecentIds {
    /// Records `id`; whether it was new.
    fn first_time(&mut self, id: i64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > RECENT_IDS
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// One term of a member: reads until `term` is cancelled (shutdown), the group changes beyond what the term
/// can follow (a server of before partition claims leads it, or the topic has fewer partitions), or a write
/// fails (the locks are lost: the error), then stops the shards and writes what they finished (chunks they had
/// not finished are read again by the next term, here or in another process). Members joining or leaving and
/// partitions added are followed within the term (`Claim::follow_census`).
async fn run(
    consumer: &Arc<StreamConsumer>,
    mut reader: Reader,
    shards: Vec<JoinHandle<()>>,
    claim: &mut Claim<'_>,
    term: CancellationToken,
) -> Result<(), KafkaError> {
    let group = claim.config.consumer_group.clone();
    let mut flush = tokio::time::interval(OFFSET_FLUSH);
    let mut topology =
        tokio::time::interval_at(tokio::time::Instant::now() + PARTITION_CHECK, PARTITION_CHECK);
    let mut lost = None;
    loop {
        tokio::select! {
            () = term.cancelled() => break,
            _ = topology.tick() => match partition_count(Arc::clone(consumer)).await {
                Ok(now) if now > claim.partitions => {
                    // The next census finds this member's share grown and the new partitions free: it claims
                    // its part of them within this term (`Step::Grow`), its sessions kept.
                    tracing::info!(%group, now, was = claim.partitions, "partitions were added to auren.beats");
                    claim.partitions = now;
                }
                Ok(now) if now < claim.partitions => {
                    // Kafka never takes partitions away: the topic was made again; every member claims anew.
                    tracing::info!(
                        %group, now, was = claim.partitions,
                        "auren.beats has fewer partitions; this member claims again"
                    );
                    break;
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "the partitions of auren.beats are unknown for now"),
            },
            _ = flush.tick() => match flushed(claim, consumer, &reader).await {
                Ok(false) => {}
                Ok(true) => {
                    tracing::info!(%group, "the consumer group changed; this member claims its partitions again");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the alert consumer lost its locks or its reader; another term starts");
                    lost = Some(e);
                    break;
                }
            },
            received = consumer.recv() => match received {
                Ok(message) => {
                    if !reader.message(&message, &term).await {
                        break;
                    }
                    set_status(&reader.shared, ComponentStatus::Up);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "alert consumer receive failed");
                    set_status(&reader.shared, ComponentStatus::Degraded { reason: format!("consumer: {e}") });
                }
            },
        }
    }
    term.cancel();
    reader.queues.clear();
    for shard in shards {
        if let Err(e) = shard.await {
            tracing::error!(error = %e, "alert consumer shard failed");
        }
    }
    match lost {
        Some(e) => Err(e),
        None => claim.write(&reader.book).await,
    }
}

/// The term's offsets written, then the census followed; whether the term must end.
async fn flushed(
    claim: &mut Claim<'_>,
    consumer: &Arc<StreamConsumer>,
    reader: &Reader,
) -> Result<bool, KafkaError> {
    claim.write(&reader.book).await?;
    claim.follow_census(consumer, reader).await
}

fn set_partitions(shared: &Shared, held: &[i32]) {
    metrics::gauge!("auren_consumer_partitions").set(held.len() as f64);
    if let Ok(mut partitions) = shared.partitions.lock() {
        held.clone_into(&mut partitions);
    }
}

fn set_status(shared: &Shared, status: ComponentStatus) {
    if let Ok(mut s) = shared.status.lock() {
        *s = status;
    }
}

impl Reader {
    /// Hands the chunks of one `auren.beats` message (unless it is a re-sent row) to their users' shards;
    /// false when a shard is gone (shutting down).
    async fn message(&mut self, message: &impl Message, shutdown: &CancellationToken) -> bool {
        let partition = message.partition();
        let offset = message.offset();
        if let Some(lag) = message.timestamp().to_millis() {
            metrics::histogram!("auren_consumer_lag_seconds").record((unix_now_ms() - lag) as f64 / 1000.0);
        }
        let mut chunks = Vec::new();
        if outbox_id(message).is_some_and(|id| !self.recent.first_time(id)) {
            self.shared.resent.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("auren_consumer_skipped_total", "why" => "resent").increment(1);
        } else {
            match message.payload().map(read_beats) {
                Some(Ok(read)) => chunks = read,
                Some(Err(BeatsReadError::UnknownVersion(v))) => {
                    tracing::warn!(v, "beats message of an unknown version skipped");
                    metrics::counter!("auren_consumer_skipped_total", "why" => "version").increment(1);
                }
                _ => {
                    tracing::warn!(partition, offset, "unreadable beats message skipped");
                    metrics::counter!("auren_consumer_skipped_total", "why" => "unreadable").increment(1);
                }
            }
        }
        // Booked before any shard can finish one of them.
        if let Ok(mut book) = self.book.lock() {
            book.read(partition, offset, chunks.len());
        }
        for chunk in chunks {
            // A user's chunks always go to the same shard, in the order read.
            let shards = self.queues.len().max(1) as u64;
            let shard = usize::try_from(self.hasher.hash_one(chunk.user_id) % shards).unwrap_or(0);
            let Some(queue) = self.queues.get(shard) else {
                return false;
            };
            let job = ShardJob::Chunk {
                chunk,
                partition,
                offset,
            };
            let sent = tokio::select! {
                () = shutdown.cancelled() => false,
                sent = queue.send(job) => sent.is_ok(),
            };
            if !sent {
                return false;
            }
        }
        true
    }
}

impl Shard {
    /// Feeds the chunks handed to this shard, in order, and closes its idle sessions, until `shutdown`.
    async fn run(mut self, mut jobs: mpsc::Receiver<ShardJob>, shutdown: CancellationToken) {
        let mut sweep = tokio::time::interval(IDLE_SWEEP.min(self.session_idle));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = sweep.tick() => self.close_idle(&shutdown).await,
                job = jobs.recv() => {
                    let (chunk, partition, offset) = match job {
                        None => break,
                        Some(ShardJob::Chunk { chunk, partition, offset }) => (chunk, partition, offset),
                        Some(ShardJob::LetGo { partitions, done }) => {
                            self.let_go(&partitions);
                            let _ = done.send(());
                            continue;
                        }
                    };
                    self.chunk(chunk, partition, offset, &shutdown).await;
                    // Counted once fed and its alerts written (its session opened): a watcher that sees
                    // every chunk counted and no session open knows every alert is stored.
                    self.shared.chunks.fetch_add(1, Ordering::Relaxed);
                    if shutdown.is_cancelled() {
                        // The chunk may be unfinished (an alert write given up): it stays in flight.
                        break;
                    }
                    if let Ok(mut book) = self.book.lock() {
                        book.finished(partition, offset);
                    }
                    // Feeding is CPU work (a 2,400-beat message takes ~9 ms) and the channel's next job is
                    // usually ready, so without a yield a shard kept its worker thread for up to tokio's
                    // whole budget (128 jobs): with one shard per core, the relay's delivery reports and the
                    // requests waited behind them (relay rounds of 0.3-1 s under a saturating ingest).
                    tokio::task::yield_now().await;
                }
            }
        }
        // The term's end drops its open sessions (the next term, here or elsewhere, reads them again from
        // their first chunk): they are no longer being fed here.
        self.shared
            .open_sessions
            .fetch_sub(self.sessions.len(), Ordering::Relaxed);
    }

    /// Drops the open sessions of `partitions` unfinished (their first chunks stay booked as open, so the
    /// offsets written next still name them for the partitions' next holder).
    fn let_go(&mut self, partitions: &[i32]) {
        let before = self.sessions.len();
        self.sessions
            .retain(|_, session| !partitions.contains(&session.partition));
        self.shared
            .open_sessions
            .fetch_sub(before - self.sessions.len(), Ordering::Relaxed);
    }

    async fn chunk(&mut self, chunk: BeatsChunk, partition: i32, offset: i64, shutdown: &CancellationToken) {
        // A device records one session at a time: a new session of the device ends its previous one.
        let ended: Vec<(Uuid, String)> = self
            .sessions
            .iter()
            .filter(|(key, s)| {
                s.device == chunk.device_id && s.user == chunk.user_id && key.1 != chunk.session_key
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in ended {
            self.close(&key, shutdown).await;
        }
        let key = (chunk.user_id, chunk.session_key.clone());
        if !self.sessions.contains_key(&key) && !self.open(&chunk, partition, offset, shutdown).await {
            return;
        }
        let Some(session) = self.sessions.get_mut(&key) else {
            return;
        };
        session.seen = Instant::now();
        // The feed takes the chunk whole: its beats and the device's other inputs it carries.
        let mut alerts = Vec::new();
        match session.feed.push_chunk(&chunk, &mut alerts) {
            Ok(ChunkFed::Fed) => {}
            Ok(ChunkFed::Repeat) => {
                metrics::counter!("auren_consumer_skipped_total", "why" => "repeat").increment(1);
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, session = chunk.session_key, "undecodable beats chunk skipped");
                metrics::counter!("auren_consumer_skipped_total", "why" => "undecodable").increment(1);
                return;
            }
        }
        let (user, session_key, started) = (session.user, session.session_key.clone(), session.started_at_ms);
        self.write_until_done(user, &session_key, started, &alerts, shutdown)
            .await;
    }

    /// Opens the session `chunk` starts, with the person's rules and baselines as of now; false when it
    /// could not be (its chunk is skipped).
    async fn open(
        &mut self,
        chunk: &BeatsChunk,
        partition: i32,
        offset: i64,
        shutdown: &CancellationToken,
    ) -> bool {
        let kind = self.session_kind(chunk.user_id, &chunk.session_key).await;
        let baselines = self
            .baselines(chunk.user_id, chunk.session_started_at_ms, shutdown)
            .await;
        let rules = self.rules_of(chunk.user_id, shutdown).await;
        let Ok(feed) = SessionFeed::new(&rules, baselines, kind) else {
            return false;
        };
        if let Ok(mut book) = self.book.lock() {
            book.opened(partition, offset);
        }
        self.shared.open_sessions.fetch_add(1, Ordering::Relaxed);
        self.sessions.insert(
            (chunk.user_id, chunk.session_key.clone()),
            OpenSession {
                feed,
                user: chunk.user_id,
                device: chunk.device_id,
                session_key: chunk.session_key.clone(),
                started_at_ms: chunk.session_started_at_ms,
                partition,
                first_offset: offset,
                seen: Instant::now(),
            },
        );
        true
    }

    /// The rules `user` runs (see [`person_rules`]). A failed read is retried like the baselines' (a session
    /// fed the wrong rules would keep its wrong alerts); on shutdown it gives the defaults, and the chunk is
    /// read again next time.
    async fn rules_of(&mut self, user: Uuid, shutdown: &CancellationToken) -> RuleSet {
        loop {
            match self
                .rules
                .rules_of(&self.pool, user, &self.shared.rules_fallbacks)
                .await
            {
                Ok(rules) => return rules,
                Err(e) => {
                    tracing::warn!(error = %e, %user, "reading the person's rules failed; retrying");
                    set_status(
                        &self.shared,
                        ComponentStatus::Degraded {
                            reason: format!("reading a person's rules: {e}"),
                        },
                    );
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return self.rules.defaults().clone(),
                () = tokio::time::sleep(WRITE_RETRY) => {}
            }
        }
    }

    /// Ends a session: its last sample and pending labels go through the rules; its state is dropped.
    async fn close(&mut self, key: &(Uuid, String), shutdown: &CancellationToken) {
        let Some(mut session) = self.sessions.remove(key) else {
            return;
        };
        let mut alerts = Vec::new();
        session.feed.finish(&mut alerts);
        self.write_until_done(
            session.user,
            &session.session_key,
            session.started_at_ms,
            &alerts,
            shutdown,
        )
        .await;
        self.shared.open_sessions.fetch_sub(1, Ordering::Relaxed);
        // A write given up at shutdown keeps the session's first chunk as the offset to re-read from.
        if !shutdown.is_cancelled()
            && let Ok(mut book) = self.book.lock()
        {
            book.closed(session.partition, session.first_offset);
        }
    }

    async fn close_idle(&mut self, shutdown: &CancellationToken) {
        let idle: Vec<(Uuid, String)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.seen.elapsed() >= self.session_idle)
            .map(|(key, _)| key.clone())
            .collect();
        for key in idle {
            self.close(&key, shutdown).await;
        }
    }

    async fn session_kind(&self, user: Uuid, session_key: &str) -> SessionKind {
        let kind: Option<String> =
            sqlx::query_scalar("SELECT kind FROM sessions WHERE user_id = $1 AND session_key = $2")
                .bind(user)
                .bind(session_key)
                .fetch_optional(&self.pool)
                .await
                .ok()
                .flatten();
        match kind.as_deref() {
            Some("rest") => SessionKind::Rest,
            Some("morning") => SessionKind::Morning,
            Some("exercise") => SessionKind::Exercise,
            Some("breathing") => SessionKind::Breathing,
            _ => SessionKind::Other,
        }
    }

    /// The user's baselines as of a session that started at `started_at_ms` (Unix ms): from the morning
    /// readings of the session's day and the days before. A failed read is retried like an alert write (a
    /// session fed without baselines would miss alerts for good); on shutdown it gives none, and the chunk
    /// is read again next time.
    async fn baselines(&self, user: Uuid, started_at_ms: i64, shutdown: &CancellationToken) -> Baselines {
        let day = UnixMillis(started_at_ms).day_number();
        loop {
            match morning_values(&self.pool, user, day).await {
                Ok(readings) => return morning_baselines(&readings, day),
                Err(e) => {
                    tracing::warn!(error = %e, %user, "reading morning readings failed; retrying");
                    set_status(
                        &self.shared,
                        ComponentStatus::Degraded {
                            reason: format!("reading morning readings: {e}"),
                        },
                    );
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return Baselines::new(),
                () = tokio::time::sleep(WRITE_RETRY) => {}
            }
        }
    }

    /// Writes `alerts`, retrying until it succeeds or the consumer shuts down (the offset is not stored
    /// past an unwritten alert, so a shutdown here re-reads the chunk next time).
    async fn write_until_done(
        &self,
        user: Uuid,
        session_key: &str,
        started_at_ms: i64,
        alerts: &[Alert],
        shutdown: &CancellationToken,
    ) {
        if alerts.is_empty() {
            return;
        }
        loop {
            match write_alerts(&self.pool, user, session_key, started_at_ms, alerts).await {
                Ok(inserted) => {
                    self.shared.alerts.fetch_add(inserted, Ordering::Relaxed);
                    metrics::counter!("auren_consumer_alerts_total").increment(inserted);
                    if inserted > 0 {
                        self.wake.notify(user).await;
                    }
                    return;
                }
                Err(_) if account_gone(&self.pool, user).await => {
                    // A deleted account's beats still on the topic: its alerts have nowhere to go (the
                    // version bump fails its foreign key), and retrying would hold this shard for good.
                    tracing::info!(%user, "alerts of a deleted account dropped");
                    metrics::counter!("auren_consumer_skipped_total", "why" => "account_gone")
                        .increment(alerts.len() as u64);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, %user, "writing server alerts failed; retrying");
                    set_status(
                        &self.shared,
                        ComponentStatus::Degraded {
                            reason: format!("writing alerts: {e}"),
                        },
                    );
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(WRITE_RETRY) => {}
            }
        }
    }
}

/// Whether `user`'s account no longer exists. A failed lookup counts as "still there": the write is then
/// retried as before.
async fn account_gone(pool: &PgPool, user: Uuid) -> bool {
    let gone = sqlx::query_scalar::<_, bool>("SELECT NOT EXISTS (SELECT 1 FROM users WHERE id = $1)")
        .bind(user)
        .fetch_one(pool)
        .await;
    matches!(gone, Ok(true))
}

/// The user's live morning readings of the [`MORNING_SPAN_DAYS`] days up to `day`: a record whose body is
/// newer than its tombstone (if any), as every device decides.
async fn morning_values(pool: &PgPool, user: Uuid, day: i64) -> Result<Vec<MorningValues>, sqlx::Error> {
    let rows: Vec<(Option<serde_json::Value>, Option<serde_json::Value>)> =
        sqlx::query_as("SELECT body, tombstone FROM records WHERE user_id = $1 AND collection = 'morning'")
            .bind(user)
            .fetch_all(pool)
            .await?;
    let first = day.saturating_sub(MORNING_SPAN_DAYS - 1);
    Ok(rows
        .into_iter()
        .filter_map(|(body, tombstone)| {
            let m = crate::trend::live_morning(body, tombstone)?;
            if !(first..=day).contains(&m.day) {
                return None;
            }
            Some(MorningValues {
                day: m.day,
                ln_rmssd: m.reading.value.ln_rmssd,
                resting_hr: m.reading.value.resting_hr,
            })
        })
        .collect())
}

/// Inserts the alerts of one user in one transaction; returns how many were new. The user's version is
/// bumped only when something was new, so a replay changes nothing at all. Each new alert also gets a
/// `server_outbox` row in the same transaction, so `auren.alerts` carries the server's alerts exactly once,
/// as it carries the ones devices pushed (`origin` tells them apart).
pub(crate) async fn write_alerts(
    pool: &PgPool,
    user: Uuid,
    session_key: &str,
    started_at_ms: i64,
    alerts: &[Alert],
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
    let version: i64 = sqlx::query_scalar("SELECT bump_user_version($1)")
        .bind(user)
        .fetch_one(&mut *tx)
        .await?;
    let mut messages: Vec<(&'static str, Vec<u8>)> = Vec::new();
    for alert in alerts {
        let record = AlertRecord::raised(user, server_alert(session_key, started_at_ms, alert));
        if crate::push::insert_alert_row(&mut tx, &record, version).await? {
            let payload = serde_json::to_vec(&record).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            messages.push((ALERTS_TOPIC, payload));
        }
    }
    if messages.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    super::queue_messages(&mut tx, user, &messages).await?;
    tx.commit().await?;
    Ok(messages.len() as u64)
}

/// An alert the rules raised in the session `session_key` (started at `started_at_ms`, wall time) as a row of
/// `alerts` and a message of `auren.alerts` hold it.
fn server_alert(session_key: &str, started_at_ms: i64, alert: &Alert) -> AlertChange {
    AlertChange {
        session_key: session_key.to_owned(),
        at_ms: alert.at_ms as f64,
        at: started_at_ms + alert.at_ms,
        window_start_ms: started_at_ms + alert.evidence.window.0,
        rule: alert.rule.clone(),
        severity: alert.severity.as_str().to_owned(),
        message: alert.message.clone(),
        evidence: serde_json::to_value(&alert.evidence).unwrap_or(serde_json::Value::Null),
    }
}

fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{OffsetBook, RECENT_IDS, RecentIds, partitions_to_give};

    #[test]
    fn a_member_gives_away_the_partitions_with_the_least_to_read_again() {
        /// Held, kept, messages to read again per partition, given.
        type Case = (&'static [i32], usize, &'static [(i32, i64)], &'static [i32]);
        let cases: [Case; 7] = [
            (&[0, 1, 2], 2, &[(0, 500), (1, 3), (2, 90)], &[1]),
            (&[0, 1, 2], 1, &[(0, 500), (1, 3), (2, 90)], &[1, 2]),
            // Nothing read of 2 yet: it costs nothing.
            (&[0, 1, 2], 2, &[(0, 5), (1, 3)], &[2]),
            // Ties: the highest partition first (what the member gave before costs were counted).
            (&[0, 1, 2], 2, &[], &[2]),
            (&[0, 1, 2, 3], 2, &[(0, 7), (1, 7), (2, 7), (3, 7)], &[2, 3]),
            (&[4, 9], 2, &[(4, 1)], &[]),
            (&[4, 9], 0, &[(4, 1)], &[4, 9]),
        ];
        for (held, keep, rereads, want) in cases {
            let rereads: HashMap<i32, i64> = rereads.iter().copied().collect();
            assert_eq!(
                partitions_to_give(held, keep, &rereads),
                want,
                "{held:?} keeping {keep}, {rereads:?}"
            );
        }
    }

    #[test]
    fn what_a_new_holder_reads_again_runs_from_the_stored_offset_to_the_read_one() {
        let mut book = OffsetBook::default();
        book.read(0, 10, 1);
        book.opened(0, 10);
        book.finished(0, 10);
        for offset in 11..40 {
            book.read(0, offset, 1);
            book.finished(0, offset);
        }
        book.read(1, 4, 1);
        book.finished(1, 4);
        let mut rereads: Vec<(i32, i64)> = book.rereads().into_iter().collect();
        rereads.sort_unstable();
        // Partition 0 from its open session's first message (10) to 40; partition 1 has nothing open.
        assert_eq!(rereads, [(0, 30), (1, 0)]);
    }

    /// Steps of the reader and the shards, and the offsets to store after each.
    #[test]
    fn the_stored_offset_waits_for_unfinished_chunks_and_open_sessions() {
        enum Step {
            Read(i32, i64, usize),
            Finished(i32, i64),
            Opened(i32, i64),
            Closed(i32, i64),
        }
        use Step::*;
        let steps = [
            // Partition 0: a message of two chunks is read; nothing past it until both are finished.
            (Read(0, 10, 2), vec![(0, 10)]),
            (Read(1, 4, 1), vec![(0, 10), (1, 4)]),
            (Read(0, 11, 1), vec![(0, 10), (1, 4)]),
            // The later message finishes first (another shard): still held by offset 10.
            (Finished(0, 11), vec![(0, 10), (1, 4)]),
            // The first chunk of offset 10 opened a session before it finished.
            (Opened(0, 10), vec![(0, 10), (1, 4)]),
            (Finished(0, 10), vec![(0, 10), (1, 4)]),
            (Finished(0, 10), vec![(0, 10), (1, 4)]),
            // Partition 1 has nothing open: past its message.
            (Finished(1, 4), vec![(0, 10), (1, 5)]),
            // A message with no chunk for a shard (re-sent, unreadable) moves on at once.
            (Read(1, 5, 0), vec![(0, 10), (1, 6)]),
            // The session closes: partition 0 moves past everything read.
            (Closed(0, 10), vec![(0, 12), (1, 6)]),
        ];
        let mut book = OffsetBook::default();
        for (i, (step, want)) in steps.into_iter().enumerate() {
            match step {
                Read(p, o, chunks) => book.read(p, o, chunks),
                Finished(p, o) => book.finished(p, o),
                Opened(p, o) => book.opened(p, o),
                Closed(p, o) => book.closed(p, o),
            }
            let mut got = book.to_store();
            got.sort_unstable();
            assert_eq!(got, want, "after step {i}");
        }
    }

    #[test]
    fn an_outbox_id_is_new_once_until_it_leaves_the_window() {
        let mut recent = RecentIds::default();
        for (id, new) in [
            (5, true),
            (5, false),
            (3, true),
            (5, false),
            (3, false),
            (6, true),
        ] {
            assert_eq!(recent.first_time(id), new, "id {id}");
        }
        for id in 1_000..1_000 + RECENT_IDS as i64 {
            assert!(recent.first_time(id));
        }
        // 5, 3 and 6 were the oldest: pushed out by the window, they count as new again (and the window
        // stays bounded).
        assert!(recent.first_time(5));
        assert_eq!(recent.set.len(), RECENT_IDS);
        assert!(!recent.first_time(1_000 + RECENT_IDS as i64 - 1));
    }
}
