/** The ledger's behaviour, as scripts (see scenario-script.ts for the language). */
export const scenarioText = `
scenario: a hold commits less than it reserved and releases the rest
grant g1 paid 100                     -> ok
hold h1 40 paid ttl=1m                -> ok
expect available paid=60
tick 30s
commit c1 h1 25                       -> ok
expect available paid=75
commit c2 h1 5                        -> hold_already_committed
commit c1 h1 25                       -> exists
release r1 h1                         -> hold_already_committed

scenario: an unresolved hold expires exactly at its TTL
grant g1 paid 100                     -> ok
hold h1 40 paid ttl=1m                -> ok
tick 59999ms
expect held paid=40
tick 1ms
expect held paid=0
commit c1 h1 10                       -> hold_expired
release r1 h1                         -> hold_expired
expect available paid=100

scenario: commit after release is refused, the released credit is spendable
grant g1 paid 50                      -> ok
hold h1 50 paid                       -> ok
debit d1 1 paid                       -> insufficient_credits
release r1 h1                         -> ok
commit c1 h1 50                       -> hold_released
debit d1 50 paid                      -> ok

scenario: overage above a hold needs an explicit allowance and credit to pay it
grant g1 paid 100                     -> ok
hold h1 90 paid                       -> ok
commit c1 h1 95                       -> commit_exceeds_hold
commit c2 h1 111 overage=20           -> commit_exceeds_hold
commit c3 h1 101 overage=20           -> insufficient_credits
commit c4 h1 100 overage=20           -> ok
expect available paid=0

scenario: credits expire with an entry at expires_at, also while held
grant g1 promo 100 expires=10m        -> ok
grant g2 paid 100                     -> ok
hold h1 30 promo ttl=20m              -> ok
debit d1 20 promo                     -> ok
tick 10m
expect available promo=0 paid=100
expect posted promo=30
expect held promo=30
tick 10m
expect posted promo=0
expect held promo=0
debit d2 1 promo                      -> insufficient_credits
debit d3 10 promo,paid                -> ok
expect available paid=90

scenario: a future grant pays only from its effective time
grant g1 paid 10 effective=1h         -> ok
debit d1 5 paid                       -> insufficient_credits
tick 1h
debit d1 5 paid                       -> ok
expect available paid=5

scenario: draw order crosses classes, the trial class is not listed so it never pays
grant g1 trial 100                    -> ok
grant g2 promo 10                     -> ok
grant g3 paid 10                      -> ok
debit d1 15 promo,paid                -> ok
expect available trial=100 promo=0 paid=5
debit d2 6 promo,paid                 -> insufficient_credits
debit d3 6 promo,paid floor.paid=-1   -> ok
expect available paid=-1

scenario: refunds are reversing entries, never more than was charged
grant g1 paid 100                     -> ok
debit d1 40 paid                      -> ok
reverse r1 d1 15                      -> ok
reverse r2 d1 26                      -> reversal_exceeds_remaining
reverse r3 d1                         -> ok
reverse r4 d1                         -> reversal_exceeds_remaining
reverse r5 nope                       -> transfer_not_found
expect available paid=100

scenario: a refund of an expired grant expires at once
grant g1 paid 100 expires=1m          -> ok
debit d1 40 paid                      -> ok
tick 2m
reverse r1 d1                         -> ok
expect available paid=0

scenario: idempotency keys replay the original and refuse a different request
grant g1 paid 10                      -> ok
debit d1 10 paid                      -> ok
debit d1 10 paid                      -> exists
debit d1 9 paid                       -> exists_with_different_request
hold d1 10 paid                       -> exists_with_different_request
grant g1 paid 10                      -> exists
expect available paid=0
`;
