//! Hard daily and monthly budgets: reserve a call's worst case before it starts, settle the real cost after.
//!
//! Windows are UTC days and UTC calendar months. Reservations in flight count against both windows, so
//! concurrent calls can never together spend past a limit (as long as each call costs at most what it
//! reserved, which the worst-case reservation guarantees when the provider honours `max_tokens`).

use crate::clock::UnixMillis;
use crate::config::BudgetLimits;
use crate::prices::Usd;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// Which budget window refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetWindow {
    Daily,
    Monthly,
}

impl fmt::Display for BudgetWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Daily => "daily",
            Self::Monthly => "monthly",
        })
    }
}

/// A call refused because its worst case would break a budget.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{window} budget of {limit} would be exceeded: {spent} spent and {reserved} reserved by calls in flight, \
     this call may cost up to {needed}; the budget resets at {resets_at}"
)]
pub struct BudgetRefusal {
    pub window: BudgetWindow,
    pub limit: Usd,
    pub spent: Usd,
    pub reserved: Usd,
    pub needed: Usd,
    pub resets_at: UnixMillis,
}

#[derive(Debug)]
struct Ledger {
    /// Days since the epoch of the UTC day `spent_day` belongs to.
    day: i64,
    month: (i32, u32),
    spent_day: Usd,
    spent_month: Usd,
    reserved: Usd,
}

/// The running totals of both windows.
#[derive(Debug)]
pub struct BudgetBook {
    limits: BudgetLimits,
    ledger: Mutex<Ledger>,
}

impl BudgetBook {
    /// A book opened at `now` with what was already spent today and this month (from the usage ledger).
    pub fn new(limits: BudgetLimits, now: UnixMillis, spent_today: Usd, spent_this_month: Usd) -> Self {
        let date = now.utc_date();
        let ledger = Ledger {
            day: date.to_days(),
            month: (date.year, date.month),
            spent_day: spent_today,
            spent_month: spent_this_month,
            reserved: Usd::ZERO,
        };
        Self {
            limits,
            ledger: Mutex::new(ledger),
        }
    }

    pub fn limits(&self) -> BudgetLimits {
        self.limits
    }

    /// The ledger rolled forward to `now`'s day and month.
    fn ledger_at(&self, now: UnixMillis) -> MutexGuard<'_, Ledger> {
        // A panic while holding this lock cannot leave the totals half-updated (each update is one
        // assignment), so a poisoned lock is still sound to use.
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let date = now.utc_date();
        if date.to_days() > ledger.day {
            ledger.day = date.to_days();
            ledger.spent_day = Usd::ZERO;
            if (date.year, date.month) != ledger.month {
                ledger.month = (date.year, date.month);
                ledger.spent_month = Usd::ZERO;
            }
        }
        ledger
    }

    /// Reserves `amount` or refuses, naming the window, the spend and when it resets.
    pub fn reserve(self: &Arc<Self>, amount: Usd, now: UnixMillis) -> Result<Reservation, BudgetRefusal> {
        let mut ledger = self.ledger_at(now);
        if amount > Usd::ZERO {
            let date = now.utc_date();
            let windows = [
                (
                    BudgetWindow::Daily,
                    self.limits.daily,
                    ledger.spent_day,
                    date.next_day().start(),
                ),
                (
                    BudgetWindow::Monthly,
                    self.limits.monthly,
                    ledger.spent_month,
                    date.first_of_next_month().start(),
                ),
            ];
            for (window, limit, spent, resets_at) in windows {
                let Some(limit) = limit else { continue };
                if spent.saturating_add(ledger.reserved).saturating_add(amount) > limit {
                    return Err(BudgetRefusal {
                        window,
                        limit,
                        spent,
                        reserved: ledger.reserved,
                        needed: amount,
                        resets_at,
                    });
                }
            }
        }
        ledger.reserved = ledger.reserved.saturating_add(amount);
        Ok(Reservation {
            book: Arc::clone(self),
            amount,
            open: true,
        })
    }

    /// Spent today and this month (settled calls only), as of `now`.
    pub fn spent(&self, now: UnixMillis) -> (Usd, Usd) {
        let ledger = self.ledger_at(now);
        (ledger.spent_day, ledger.spent_month)
    }

    fn close(&self, reserved: Usd, actual: Usd, now: UnixMillis) {
        let mut ledger = self.ledger_at(now);
        ledger.reserved = ledger.reserved.saturating_sub(reserved);
        ledger.spent_day = ledger.spent_day.saturating_add(actual);
        ledger.spent_month = ledger.spent_month.saturating_add(actual);
    }
}

/// Money set aside for one call in flight. Settle it with the real cost; dropping it unsettled releases it.
#[derive(Debug)]
pub struct Reservation {
    book: Arc<BudgetBook>,
    amount: Usd,
    open: bool,
}

impl Reservation {
    pub fn amount(&self) -> Usd {
        self.amount
    }

    /// Replaces the reservation by the real cost.
    pub fn settle(mut self, actual: Usd, now: UnixMillis) {
        self.open = false;
        self.book.close(self.amount, actual, now);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.open {
            // Nothing was spent (the attempt failed before the provider produced anything billable).
            let mut ledger = self
                .book
                .ledger
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            ledger.reserved = ledger.reserved.saturating_sub(self.amount);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::UtcDate;

    fn usd(d: f64) -> Usd {
        Usd::from_dollars(d)
    }

    #[test]
    fn refusal_names_budget_spend_and_reset() {
        let now = UtcDate {
            year: 2025,
            month: 11,
            day: 21,
        }
        .start()
        .plus(std::time::Duration::from_secs(3600));
        let book = Arc::new(BudgetBook::new(
            BudgetLimits {
                daily: Some(usd(2.0)),
                monthly: Some(usd(30.0)),
            },
            now,
            usd(1.5),
            usd(10.0),
        ));
        let held = book.reserve(usd(0.4), now).expect("fits");
        let refusal = book
            .reserve(usd(0.2), now)
            .expect_err("0.2 more breaks the daily budget");
        assert_eq!(refusal.window, BudgetWindow::Daily);
        assert_eq!(
            refusal.to_string(),
            "daily budget of $2.000000 would be exceeded: $1.500000 spent and $0.400000 reserved by calls in \
             flight, this call may cost up to $0.200000; the budget resets at 2025-11-22T00:00:00Z"
        );
        held.settle(usd(0.1), now);
        assert_eq!(book.spent(now), (usd(1.6), usd(10.1)));
        book.reserve(usd(0.2), now)
            .expect("fits after settling below the reservation");
    }

    #[test]
    fn windows_roll_over_at_utc_midnight_and_month_start() {
        let limits = BudgetLimits {
            daily: Some(usd(1.0)),
            monthly: Some(usd(1.5)),
        };
        let nov30 = UtcDate {
            year: 2025,
            month: 11,
            day: 30,
        }
        .start();
        let book = Arc::new(BudgetBook::new(limits, nov30, usd(0.9), usd(1.4)));
        let refusal = book.reserve(usd(0.2), nov30).expect_err("daily full");
        assert_eq!(refusal.window, BudgetWindow::Daily);
        let dec1 = UtcDate {
            year: 2025,
            month: 12,
            day: 1,
        }
        .start();
        book.reserve(usd(0.2), dec1)
            .expect("new day and new month")
            .settle(usd(0.2), dec1);
        assert_eq!(book.spent(dec1), (usd(0.2), usd(0.2)));
        let refusal = book.reserve(usd(5.0), dec1).expect_err("too big");
        assert_eq!(
            refusal.resets_at,
            UtcDate {
                year: 2025,
                month: 12,
                day: 2
            }
            .start()
        );
    }

    #[test]
    fn dropped_reservation_is_released_and_free_calls_always_pass() {
        let now = UnixMillis(0);
        let book = Arc::new(BudgetBook::new(
            BudgetLimits {
                daily: Some(usd(1.0)),
                monthly: None,
            },
            now,
            usd(1.0),
            Usd::ZERO,
        ));
        book.reserve(Usd::ZERO, now)
            .expect("a free call is never refused");
        let book2 = Arc::new(BudgetBook::new(
            BudgetLimits {
                daily: Some(usd(1.0)),
                monthly: None,
            },
            now,
            Usd::ZERO,
            Usd::ZERO,
        ));
        drop(book2.reserve(usd(1.0), now).expect("fits"));
        book2.reserve(usd(1.0), now).expect("released by drop");
    }
}
