//! The DynamoDB [`CapacityLedger`]: one item, its body JSON and a numeric
//! version; the first writer puts it where none exists, every later one
//! updates it where the version is the one it read. Never expires.

use super::*;
use ripcord::capacity::Ledger;
use ripcord::ports::capacity::CapacityLedger;

const WHAT: &str = "the DRS capacity ledger";
const LEDGER_PK: &str = "CAPACITY#drs";
const LEDGER_SK: &str = "LEDGER";

#[async_trait]
impl CapacityLedger for DynamoStore {
    async fn load_ledger(&self) -> Result<Versioned<Ledger>, StoreError> {
        match self.get(LEDGER_PK.to_owned(), LEDGER_SK.to_owned()).await? {
            None => Ok(Versioned::default()),
            Some(item) => versioned(&item, WHAT),
        }
    }

    async fn save_ledger(&self, ledger: &Ledger, expected: u64) -> Result<u64, StoreError> {
        let body = body_of(WHAT, ledger)?;
        let key = key(LEDGER_PK.to_owned(), LEDGER_SK.to_owned());
        if expected == 0 {
            let mut item = key;
            item.extend([
                (ATTR_VERSION.to_owned(), number(1)),
                (ATTR_BODY.to_owned(), AttributeValue::S(body)),
            ]);
            return match self.put_new(item).await? {
                CreateOutcome::Created => Ok(1),
                CreateOutcome::AlreadyExists => Err(StoreError::VersionConflict {
                    what: WHAT.to_owned(),
                    expected,
                }),
            };
        }
        let update = self.versioned_update(key, body, Vec::new(), expected)?;
        self.run_update(update, WHAT, expected).await?;
        Ok(expected + 1)
    }
}
