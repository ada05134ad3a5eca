import type { SessionEvent, SessionEventNotification, SessionStatus } from '@switchboard/protocol';
import type { Queryable, Sql, TransactionSql } from '../db/client.js';
import type { Logger } from '../logger.js';

export type StoredEvent = SessionEventNotification;
type Listener = (event: StoredEvent) => void;

interface Pending {
  events: SessionEvent[];
  extra: ((tx: TransactionSql, stored: StoredEvent[]) => Promise<void>)[];
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
 * arriving within `flushMs` are written in one transaction; a session's flushes run one after the
 * other, so live delivery is in seq order.
 */
export function createEventStore({ sql, log, flushMs = 10 }: { sql: Sql; log: Logger; flushMs?: number }) {
  const pending = new Map<string, Pending>();
  const chains = new Map<string, Promise<void>>();
  const listeners = new Map<string, Set<Listener>>();
  const timers = new Map<string, NodeJS.Timeout>();

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

  async function write(sessionId: string, batch: Pending): Promise<StoredEvent[]> {
    const events = coalesce(batch.events);
    const status = [...events].reverse().find((event) => event.type === 'status');
    const stored = await sql.begin(async (tx) => {
      const [row] = await tx<{ last_seq: bigint }[]>`
        update sessions set
          last_seq = last_seq + ${events.length},
          status = case when status = 'archived' then status else coalesce(${status?.type === 'status' ? status.status : null}, status) end,
          updated_at = now()
        where id = ${sessionId}
        returning last_seq`;
      if (!row) throw new Error(`session ${sessionId} does not exist`);
      const first = Number(row.last_seq) - events.length + 1;
      const at = new Date();
      const rows = events.map((event, index) => ({
        session_id: sessionId,
        seq: first + index,
        at,
        type: event.type,
        event: tx.json(event as never),
      }));
      if (rows.length > 0) await tx`insert into session_events ${tx(rows, 'session_id', 'seq', 'at', 'type', 'event')}`;
      const result = events.map((event, index) => ({ sessionId, seq: first + index, at: at.toISOString(), event }));
      for (const extra of batch.extra) await extra(tx, result);
      return result;
    });
    return stored;
  }

  function flush(sessionId: string): Promise<void> {
    const timer = timers.get(sessionId);
    if (timer) clearTimeout(timer);
    timers.delete(sessionId);
    const previous = chains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const batch = pending.get(sessionId);
      if (!batch) return;
      pending.delete(sessionId);
      try {
        const stored = batch.events.length > 0 || batch.extra.length > 0 ? await write(sessionId, batch) : [];
        publish(stored);
        for (const waiter of batch.waiters) waiter.resolve(stored);
      } catch (error) {
        log.error({ err: error, sessionId }, 'could not store session events');
        for (const waiter of batch.waiters) waiter.reject(error);
      }
    });
    chains.set(sessionId, next);
    void next.finally(() => {
      if (chains.get(sessionId) === next) chains.delete(sessionId);
    });
    return next;
  }

  function enqueue(sessionId: string, events: SessionEvent[], extra?: Pending['extra'][number], immediate = false): Promise<StoredEvent[]> {
    let batch = pending.get(sessionId);
    if (!batch) {
      batch = { events: [], extra: [], waiters: [] };
      pending.set(sessionId, batch);
    }
    batch.events.push(...events);
    if (extra) batch.extra.push(extra);
    const done = new Promise<StoredEvent[]>((resolve, reject) => batch?.waiters.push({ resolve, reject }));
    if (immediate || batch.events.length >= 200) void flush(sessionId);
    else if (!timers.has(sessionId))
      timers.set(
        sessionId,
        setTimeout(() => void flush(sessionId), flushMs),
      );
    return done;
  }

  return {
    /** Appends events (batched for a few milliseconds); resolves once they are stored and sent. */
    append: (sessionId: string, events: SessionEvent[]) => enqueue(sessionId, events),
    /** Appends now, running `extra` (an audit row, say) in the same transaction as the events. */
    appendWith: (sessionId: string, events: SessionEvent[], extra: (tx: TransactionSql, stored: StoredEvent[]) => Promise<void>) =>
      enqueue(sessionId, events, extra, true),

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
      await Promise.all([...pending.keys()].map((sessionId) => flush(sessionId)));
      await Promise.all([...chains.values()]);
    },

    listenerCount: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
  };
}

export type EventStore = ReturnType<typeof createEventStore>;
export type { SessionStatus };
