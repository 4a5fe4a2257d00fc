/**
 * The store's Lua scripts: each runs atomically on the server, so a
 * compare-and-set, a claim or a lock's compare-and-delete is one step that no
 * other client can interleave with, and each publishes its change message in
 * the same step (a watcher never misses a write that happened).
 *
 * Times come from the server's clock (TIME), never a client's: leases are
 * compared by one clock however many machines share the store.
 */
import { createHash } from "node:crypto";

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** A script with its SHA1, for EVALSHA. */
export function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash("sha1").update(source, "utf8").digest("hex") };
}

const NOW = "local t = redis.call('time'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/**
 * Find the message with this id in a queue: the stored element, or nil. It
 * reads the list a page at a time from the head, where the message acked or
 * dequeued almost always is, so a long queue costs one short read, not all.
 */
const FIND = `
local function find(list, id)
  local start = 0
  while true do
    local items = redis.call('lrange', list, start, start + 31)
    if #items == 0 then return nil end
    for _, item in ipairs(items) do
      if cjson.decode(item).id == id then return item end
    end
    start = start + 32
  end
end`;

/** KEYS: seq, reserved; ARGV: base. A fresh id never reserved before (put() reserves ids too). */
export const RESERVE_ID = script(
  "reserveId",
  `repeat
  local n = redis.call('incr', KEYS[1])
  local id = ARGV[1] .. '-' .. n
  if redis.call('sadd', KEYS[2], id) == 1 then return id end
until false`,
);

/** KEYS: record, records, reserved, channel; ARGV: id, expected (JSON, or "" for any), next JSON. 1 when written. */
export const COMPARE_AND_SET = script(
  "compareAndSet",
  `local current = redis.call('get', KEYS[1])
if ARGV[2] ~= '' and current ~= ARGV[2] then return 0 end
redis.call('set', KEYS[1], ARGV[3])
redis.call('sadd', KEYS[2], ARGV[1])
redis.call('sadd', KEYS[3], ARGV[1])
redis.call('publish', KEYS[4], 'i:' .. ARGV[1])
return 1`,
);

/**
 * The ids of the last messages that left a queue (acked or dequeued), newest
 * first: an enqueue of one of them is a resent command, not a new message.
 */
const LEFT = `
local function remember_left(list, id)
  redis.call('lpush', list, id)
  redis.call('ltrim', list, 0, 199)
end`;

/**
 * KEYS: queue, left, channel; ARGV: instance id, message JSON, message id.
 * 1 when queued; 0 when that message is queued already or just left the
 * queue. The client resends a command whose reply a dropped connection lost
 * (ioredis), so an enqueue Redis ran may run again: it must not queue the
 * message twice, nor again after its delivery.
 */
export const ENQUEUE = script(
  "enqueue",
  `${FIND}
if find(KEYS[1], ARGV[3]) then return 0 end
for _, id in ipairs(redis.call('lrange', KEYS[2], 0, -1)) do
  if id == ARGV[3] then return 0 end
end
redis.call('rpush', KEYS[1], ARGV[2])
redis.call('publish', KEYS[3], 'q:' .. ARGV[1])
return 1`,
);

/** KEYS: queue, channel, left; ARGV: instance id, message id. 1 when this caller removed it. */
export const DEQUEUE = script(
  "dequeue",
  `${FIND}${LEFT}
local item = find(KEYS[1], ARGV[2])
if not item then return 0 end
redis.call('lrem', KEYS[1], 1, item)
remember_left(KEYS[3], ARGV[2])
redis.call('publish', KEYS[2], 'q:' .. ARGV[1])
return 1`,
);

/**
 * KEYS: queue, claim; ARGV: token, leaseMs, claimedAt, note ("" for none), has note ("1"/"0"), holder ("" if unnamed).
 * -> {"empty"} | {"held", ms left, holder, token} | {"claimed", message JSON, recovered JSON or ""}.
 * An expired claim of the same head message becomes the new claim's `recovered`.
 */
export const CLAIM = script(
  "claim",
  `${NOW}
local head = redis.call('lindex', KEYS[1], 0)
if not head then
  redis.call('del', KEYS[2])
  return {'empty'}
end
local id = cjson.decode(head).id
local recovered = nil
local previous = redis.call('get', KEYS[2])
if previous then
  local p = cjson.decode(previous)
  if p.messageId == id then
    if now <= p.expiresAt then return {'held', tostring(p.expiresAt - now), p.holder or '', p.token} end
    if p.recovered then
      recovered = { claimedAt = p.recovered.claimedAt, note = p.recovered.note, abandoned = p.recovered.abandoned + 1 }
    else
      recovered = { claimedAt = p.claimedAt, note = p.note, abandoned = 1 }
    end
  end
end
local claim = { token = ARGV[1], messageId = id, claimedAt = ARGV[3], expiresAt = now + tonumber(ARGV[2]), recovered = recovered }
if ARGV[5] == '1' then claim.note = ARGV[4] end
if ARGV[6] ~= '' then claim.holder = ARGV[6] end
redis.call('set', KEYS[2], cjson.encode(claim))
if recovered then return {'claimed', head, cjson.encode(recovered)} end
return {'claimed', head, ''}`,
);

/** KEYS: claim; ARGV: token, leaseMs. 1 when the live claim was extended. */
export const RENEW_CLAIM = script(
  "renewClaim",
  `${NOW}
local previous = redis.call('get', KEYS[1])
if not previous then return 0 end
local claim = cjson.decode(previous)
if claim.token ~= ARGV[1] or now > claim.expiresAt then return 0 end
claim.expiresAt = now + tonumber(ARGV[2])
redis.call('set', KEYS[1], cjson.encode(claim))
return 1`,
);

/**
 * KEYS: claim; ARGV: token. Ends the lease of that claim now (its holder is
 * known dead), so the next claim takes it over as recovered. 1 when it was
 * still that claim.
 */
export const EXPIRE_CLAIM = script(
  "expireClaim",
  `${NOW}
local previous = redis.call('get', KEYS[1])
if not previous then return 0 end
local claim = cjson.decode(previous)
if claim.token ~= ARGV[1] then return 0 end
claim.expiresAt = now - 1
redis.call('set', KEYS[1], cjson.encode(claim))
return 1`,
);

/**
 * KEYS: claim, queue, channel, left; ARGV: token, instance id, "ack" or "release".
 * 1 when the claim was this token's (ack also removes its message).
 */
export const END_CLAIM = script(
  "endClaim",
  `${FIND}${LEFT}
local previous = redis.call('get', KEYS[1])
if not previous then return 0 end
local claim = cjson.decode(previous)
if claim.token ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
if ARGV[3] == 'ack' then
  local item = find(KEYS[2], claim.messageId)
  if item then redis.call('lrem', KEYS[2], 1, item) end
  remember_left(KEYS[4], claim.messageId)
end
redis.call('publish', KEYS[3], 'q:' .. ARGV[2])
return 1`,
);

/**
 * KEYS: lock, fence; ARGV: random part, leaseMs. The token when acquired (a
 * fencing number, growing with every acquisition of the key, then the random
 * part, which names the holder after a "~"), else {ms left on the holder's
 * lease, the holder's token}.
 */
export const ACQUIRE_LOCK = script(
  "acquireLock",
  `local holder = redis.call('get', KEYS[1])
if holder then return {redis.call('pttl', KEYS[1]), holder} end
local token = redis.call('incr', KEYS[2]) .. ':' .. ARGV[1]
redis.call('set', KEYS[1], token, 'px', tonumber(ARGV[2]))
return token`,
);

/** KEYS: lock; ARGV: token, leaseMs. 1 when the holder's lease was extended (compare-and-extend). */
export const RENEW_LOCK = script(
  "renewLock",
  `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], tonumber(ARGV[2]))
return 1`,
);

/** KEYS: lock, channel; ARGV: token, key. 1 when released by its holder (compare-and-delete); wakes waiters. */
export const RELEASE_LOCK = script(
  "releaseLock",
  `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
redis.call('publish', KEYS[2], 'u:' .. ARGV[2])
return 1`,
);

/**
 * KEYS: doc, collection's key set, version counter, channel; ARGV: the
 * version read ("" when there was no document, "*" for any: putDoc), "set" or "delete", the JSON
 * (for "set"), key, change message. 1 when written: nobody wrote the document
 * since it was read. Versions come from one counter that never goes back, so
 * a document deleted and made again never matches a version read before.
 */
export const UPDATE_DOC = script(
  "updateDoc",
  `local version = redis.call('hget', KEYS[1], 'v')
if ARGV[1] ~= '*' and (version or '') ~= ARGV[1] then return 0 end
if ARGV[2] == 'delete' then
  redis.call('del', KEYS[1])
  redis.call('srem', KEYS[2], ARGV[4])
else
  redis.call('hset', KEYS[1], 'v', redis.call('incr', KEYS[3]), 'json', ARGV[3])
  redis.call('sadd', KEYS[2], ARGV[4])
end
redis.call('publish', KEYS[4], ARGV[5])
return 1`,
);
