//! The builder expiry and orphan removal share: which table, with which options, dry run or
//! not, by which clock. `ExpireSnapshots` and `RemoveOrphanFiles` are this type with their own
//! options and their own `execute`.

use iceberg::{Catalog, TableIdent};

use super::clock::{Clock, SystemClock};
use crate::storage::Stores;

/// A maintenance action on one table, configured builder-style, then `execute`d.
#[derive(Debug)]
pub struct TableAction<'a, O> {
    pub(super) catalog: &'a dyn Catalog,
    pub(super) stores: &'a Stores,
    pub(super) ident: &'a TableIdent,
    pub(super) opts: O,
    pub(super) dry_run: bool,
    pub(super) clock: &'a dyn Clock,
}

impl<'a, O: Default> TableAction<'a, O> {
    /// The action on `ident` with default options, for real, by the system clock.
    pub fn new(catalog: &'a dyn Catalog, stores: &'a Stores, ident: &'a TableIdent) -> Self {
        Self {
            catalog,
            stores,
            ident,
            opts: O::default(),
            dry_run: false,
            clock: &SystemClock,
        }
    }

    /// The request's options.
    pub fn with_options(mut self, opts: O) -> Self {
        self.opts = opts;
        self
    }

    /// Plan and report only: change and delete nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The clock ages are measured by.
    pub fn with_clock(mut self, clock: &'a dyn Clock) -> Self {
        self.clock = clock;
        self
    }
}
