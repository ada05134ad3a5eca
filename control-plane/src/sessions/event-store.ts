import type { SessionEvent, SessionEventNotification } from '@switchboard/protocol';
import type { Queryable, Sql, TransactionSql } from '../db/client.js';
import type { Logger } from '../logger.js';

export type StoredEvent = SessionEventNotification;
type Listener = (event: StoredEvent) => void;
type Extra = (tx: TransactionSql, stored: StoredEvent[]) => Promise<void>;

interface Pending {
  events: SessionEvent[];
  extra: Extra[];
  waiters: { resolve: (stored: StoredEvent[]) => void; reject: (error: unknown) => void }[];
}

/** Consecutive deltas of the same part merge into one event: fewer rows, the same text. */
function coalesce(events: SessionEvent[]): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if (
      last &&
      (event.type === 'text.delta' || event.type === 'reasoning.delta') &&
      last.type === event.type &&
      last.partId === event.partId
    ) {
      out[out.length - 1] = { ...last, delta: last.delta + event.delta };
    } else out.push(event);
  }
  return out;
}

/**
 * The session event log. Every event gets the next `seq` of its session (gap-free: the counter on
 * the session row and the rows commit together) and is stored before any client sees it. Events
 * of every session that arrive within `flushMs` are written in ONE transaction, and flushes run one
 * after another, so a hundred streaming sessions cost a hundred rows, not a hundred transactions,
 * and live delivery stays in seq order.
 */
export function createEventStore({ sql, log, flushMs = 10 }: { sql: Sql; log: Logger; flushMs?: number }) {
  let pending = new Map<string, Pending>();
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let queued = 0;
  const listeners = new Map<string, Set<Listener>>();

  function publish(stored: StoredEvent[]) {
    for (const event of stored) {
      for (const listener of listeners.get(event.sessionId) ?? []) {
        try {
          listener(event);
        } catch (error) {
          log.error({ err: error }, 'session event listener failed');
        }
      }
    }
  }

  async function write(batches: Map<string, Pending>): Promise<Map<string, StoredEvent[]>> {
    const plan = [...batches].map(([sessionId, batch]) => {
      const events = coalesce(batch.events);
      const status = [...events].reverse().find((event) => event.type === 'status');
      return { sessionId, batch, events, status: status?.type === 'status' ? status.status : null };
    });
    return sql.begin(async (tx) => {
      const counted = plan.filter((entry) => entry.events.length > 0);
      const seqs = new Map<string, number>();
      if (counted.length > 0) {
        const values = counted.map((entry) => [entry.sessionId, entry.events.length, entry.status]);
        const rows = await tx<{ id: string; last_seq: bigint }[]>`
          update sessions set
            last_seq = sessions.last_seq + v.n::int,
            status = case when sessions.status = 'archived' then sessions.status else coalesce(v.status::text, sessions.status) end,
            updated_at = now()
          from (values ${tx(values as never)}) as v(id, n, status)
          where sessions.id = v.id::uuid
          returning sessions.id, sessions.last_seq`;
        for (const row of rows) seqs.set(row.id, Number(row.last_seq));
      }
      const at = new Date();
      const result = new Map<string, StoredEvent[]>();
      const rows: { session_id: string; seq: number; at: Date; type: string; event: unknown }[] = [];
      for (const entry of plan) {
        const last = seqs.get(entry.sessionId);
        if (entry.events.length > 0 && last === undefined) {
          log.warn({ sessionId: entry.sessionId }, 'events for a session that does not exist were dropped');
          result.set(entry.sessionId, []);
          continue;
        }
        const first = (last ?? 0) - entry.events.length + 1;
        const stored = entry.events.map((event, index) => ({
          sessionId: entry.sessionId,
          seq: first + index,
          at: at.toISOString(),
          event,
        }));
        for (const event of stored)
          rows.push({ session_id: event.sessionId, seq: event.seq, at, type: event.event.type, event: tx.json(event.event as never) });
        result.set(entry.sessionId, stored);
      }
      for (let i = 0; i < rows.length; i += 5000) {
        await tx`insert into session_events ${tx(rows.slice(i, i + 5000) as never, 'session_id', 'seq', 'at', 'type', 'event')}`;
      }
      for (const entry of plan) for (const extra of entry.batch.extra) await extra(tx, result.get(entry.sessionId) ?? []);
      return result;
    });
  }

  function deliver(batches: Map<string, Pending>, stored: Map<string, StoredEvent[]>) {
    for (const [sessionId, batch] of batches) {
      const events = stored.get(sessionId) ?? [];
      publish(events);
      for (const waiter of batch.waiters) waiter.resolve(events);
    }
  }

  function fail(batches: Map<string, Pending>, error: unknown) {
    log.error({ err: error, sessions: [...batches.keys()] }, 'could not store session events');
    for (const batch of batches.values()) for (const waiter of batch.waiters) waiter.reject(error);
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batches = pending;
    pending = new Map();
    queued = 0;
    chain = chain.then(async () => {
      if (batches.size === 0) return;
      try {
        deliver(batches, await write(batches));
      } catch (error) {
        if (batches.size === 1) return fail(batches, error);
        // One session's batch must not take the others down: write each on its own.
        for (const [sessionId, batch] of batches) {
          const single = new Map([[sessionId, batch]]);
          await write(single).then(
            (stored) => deliver(single, stored),
            (failure: unknown) => fail(single, failure),
          );
        }
      }
    });
    return chain;
  }

  function enqueue(sessionId: string, events: SessionEvent[], extra?: Extra, immediate = false): Promise<StoredEvent[]> {
    let batch = pending.get(sessionId);
    if (!batch) {
      batch = { events: [], extra: [], waiters: [] };
      pending.set(sessionId, batch);
    }
    batch.events.push(...events);
    if (extra) batch.extra.push(extra);
    queued += events.length;
    const target = batch;
    const done = new Promise<StoredEvent[]>((resolve, reject) => target.waiters.push({ resolve, reject }));
    if (immediate || queued >= 2000) void flush();
    else timer ??= setTimeout(() => void flush(), flushMs);
    return done;
  }

  return {
    /** Appends events (batched for a few milliseconds); resolves once they are stored and sent. */
    append: (sessionId: string, events: SessionEvent[]) => enqueue(sessionId, events),
    /** Appends now, running `extra` (an audit row, say) in the same transaction as the events. */
    appendWith: (sessionId: string, events: SessionEvent[], extra: Extra) => enqueue(sessionId, events, extra, true),

    subscribe(sessionId: string, listener: Listener): () => void {
      let set = listeners.get(sessionId);
      if (!set) {
        set = new Set();
        listeners.set(sessionId, set);
      }
      set.add(listener);
      return () => {
        set?.delete(listener);
        if (set?.size === 0) listeners.delete(sessionId);
      };
    },

    /** Stored events after `sinceSeq`, oldest first. */
    async backlog(db: Queryable, sessionId: string, sinceSeq: number, limit: number): Promise<StoredEvent[]> {
      const rows = await db<{ seq: bigint; at: Date; event: SessionEvent }[]>`
        select seq, at, event from session_events where session_id = ${sessionId} and seq > ${sinceSeq} order by seq limit ${limit}`;
      return rows.map((row) => ({ sessionId, seq: Number(row.seq), at: row.at.toISOString(), event: row.event }));
    },

    async drain(): Promise<void> {
      await flush();
    },

    listenerCount: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
  };
}

export type EventStore = ReturnType<typeof createEventStore>;
