//! Knowledge-base items (知识库).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    MAX_ANSWER_CHARS, MAX_KEYWORDS, MAX_KEYWORD_CHARS, MAX_NAME_CHARS, MAX_QUESTION_CHARS,
};
use crate::routing::audit::{audit_append, audit_commit, audit_lock, audit_store_head};
use crate::sos::{invalid, optional, required};
use crate::{ts, Result, TicketError, TicketStore};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct KbItemRow {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub category: Option<String>,
    pub keywords: Vec<String>,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewKbItem {
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(sqlx::FromRow)]
struct KbDbRow {
    id: i64,
    question: String,
    answer: String,
    category: Option<String>,
    keywords: String,
    active: bool,
    updated_at: DateTime<Utc>,
}

impl TryFrom<KbDbRow> for KbItemRow {
    type Error = TicketError;

    fn try_from(r: KbDbRow) -> Result<KbItemRow> {
        Ok(KbItemRow {
            id: r.id,
            question: r.question,
            answer: r.answer,
            category: r.category,
            keywords: split_keywords(&r.keywords),
            active: r.active,
            updated_at: r.updated_at,
        })
    }
}

/// Keywords are stored one per line.
fn split_keywords(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect()
}

const KB_COLUMNS: &str = "id, question, answer, category, keywords, active, updated_at";

impl TicketStore {
    fn clean_kb(k: &NewKbItem) -> Result<NewKbItem> {
        let question = required("question", &k.question, MAX_QUESTION_CHARS)?;
        let answer = required("answer", &k.answer, MAX_ANSWER_CHARS)?;
        let category = optional("category", k.category.as_deref(), MAX_NAME_CHARS)?;
        if k.keywords.len() > MAX_KEYWORDS {
            return Err(invalid("keywords", format!("at most {MAX_KEYWORDS}")));
        }
        let mut keywords: Vec<String> = Vec::new();
        for (i, w) in k.keywords.iter().enumerate() {
            let field = format!("keywords[{i}]");
            let w = required(&field, w, MAX_KEYWORD_CHARS)?;
            if w.contains(['\n', '\r']) {
                return Err(invalid(field, "must be on one line"));
            }
            if !keywords.contains(&w) {
                keywords.push(w);
            }
        }
        Ok(NewKbItem {
            question,
            answer,
            category,
            keywords,
            active: k.active,
        })
    }

    pub async fn create_kb_item(&self, k: &NewKbItem) -> Result<KbItemRow> {
        let k = Self::clean_kb(k)?;
        let now = ts(Utc::now());
        let sql = format!(
            "INSERT INTO kb_items (question, answer, category, keywords, active, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {KB_COLUMNS}"
        );
        let item: KbItemRow = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let row: KbDbRow = sqlx::query_as::<_, KbDbRow>(&sql)
                .bind(&k.question)
                .bind(&k.answer)
                .bind(k.category.as_deref())
                .bind(k.keywords.join("\n"))
                .bind(k.active.unwrap_or(true))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let item = KbItemRow::try_from(row)?;
            audit_commit!(self, tx, chain, format!("kb:{}", item.id), "create", None::<KbItemRow>, &item);
            item
        });
        Ok(item)
    }

    pub async fn kb_item(&self, id: i64) -> Result<Option<KbItemRow>> {
        let sql = format!("SELECT {KB_COLUMNS} FROM kb_items WHERE id = $1");
        self.fetch_by::<KbDbRow, _>(&sql, id).await
    }

    /// Items by id: only active ones unless `include_inactive` (the in-memory index is built from
    /// the active ones).
    pub async fn list_kb_items(&self, include_inactive: bool) -> Result<Vec<KbItemRow>> {
        let sql =
            format!("SELECT {KB_COLUMNS} FROM kb_items WHERE ($1 OR active = $2) ORDER BY id");
        let rows: Vec<KbDbRow> = with_pool!(self, p => {
            sqlx::query_as::<_, KbDbRow>(&sql)
                .bind(include_inactive)
                .bind(true)
                .fetch_all(p)
                .await?
        });
        rows.into_iter().map(KbItemRow::try_from).collect()
    }

    /// Replaces the item (`active: None` keeps the flag); `None` if there is none.
    pub async fn update_kb_item(&self, id: i64, k: &NewKbItem) -> Result<Option<KbItemRow>> {
        let k = Self::clean_kb(k)?;
        let now = ts(Utc::now());
        let sql = format!(
            "UPDATE kb_items SET question = $2, answer = $3, category = $4, keywords = $5, \
             active = COALESCE($6, active), updated_at = $7 WHERE id = $1 RETURNING {KB_COLUMNS}"
        );
        let Some(old) = self.kb_item(id).await? else {
            return Ok(None);
        };
        let item: Option<KbItemRow> = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let row: Option<KbDbRow> = sqlx::query_as::<_, KbDbRow>(&sql)
                .bind(id)
                .bind(&k.question)
                .bind(&k.answer)
                .bind(k.category.as_deref())
                .bind(k.keywords.join("\n"))
                .bind(k.active)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let item = row.map(KbItemRow::try_from).transpose()?;
            if let Some(after) = &item {
                audit_commit!(self, tx, chain, format!("kb:{id}"), "update", &old, after);
            }
            item
        });
        Ok(item)
    }

    pub async fn delete_kb_item(&self, id: i64) -> Result<bool> {
        let Some(old) = self.kb_item(id).await? else {
            return Ok(false);
        };
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            sqlx::query("DELETE FROM kb_items WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit_commit!(self, tx, chain, format!("kb:{id}"), "delete", &old, None::<()>);
        });
        Ok(true)
    }
}
