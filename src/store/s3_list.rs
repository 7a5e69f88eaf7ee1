//! A list client of our own for S3, for the pages object_store cannot give: object_store
//! turns every key of a list page into a `Path`, and one key a `Path` cannot hold (`a/../b`,
//! `a/./b`, `a//b`, a control character) fails the whole page, and with it the listing. This
//! client asks for the same ListObjectsV2 pages (signed with SigV4, with the credentials
//! object_store's builder found), keys URL-encoded by the server so that control characters
//! arrive, and hands back every key as text.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use object_store::CredentialProvider;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsCredential};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use ring::{digest, hmac};
use serde::Deserialize;

/// Where and how to list one S3 bucket.
pub struct Lister {
    client: reqwest::Client,
    /// `https://s3.REGION.amazonaws.com/BUCKET`, or the endpoint and the bucket.
    base: url::Url,
    region: String,
    credentials: Arc<dyn CredentialProvider<Credential = AwsCredential>>,
}

impl std::fmt::Debug for Lister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lister({})", self.base)
    }
}

/// One page: its keys (decoded) and whether more follow.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub keys: Vec<String>,
    pub truncated: bool,
}

/// AWS's URI encoding: everything but the unreserved characters.
const AWS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, AWS).to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data.as_bytes()).as_ref().to_vec()
}

impl Lister {
    /// The lister for the bucket `builder` opens (its endpoint, region, addressing style and
    /// credentials), using `store`'s credential provider; `url` is the source's (`s3://BUCKET`
    /// names the bucket).
    pub fn new(builder: &AmazonS3Builder, store: &AmazonS3, url: &url::Url) -> Result<Lister> {
        let get = |k: AmazonS3ConfigKey| builder.get_config_value(&k).filter(|v| !v.is_empty());
        let named = matches!(url.scheme(), "s3" | "s3a")
            .then(|| url.host_str().map(str::to_string))
            .flatten();
        let bucket = get(AmazonS3ConfigKey::Bucket)
            .or(named)
            .context("the S3 URL names no bucket")?;
        let region = get(AmazonS3ConfigKey::Region).unwrap_or_else(|| "us-east-1".into());
        let virtual_hosted = get(AmazonS3ConfigKey::VirtualHostedStyleRequest)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let base = match (get(AmazonS3ConfigKey::Endpoint), virtual_hosted) {
            (Some(endpoint), true) => endpoint,
            (Some(endpoint), false) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
            (None, true) => format!("https://{bucket}.s3.{region}.amazonaws.com"),
            (None, false) => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        };
        let base = url::Url::parse(&base).with_context(|| format!("S3 endpoint {base}"))?;
        if base.host_str().is_none() {
            bail!("S3 endpoint {base} names no host");
        }
        // As object_store's clients: a request that takes more than a minute is a failure.
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("an HTTP client")?;
        Ok(Lister {
            client,
            base,
            region,
            credentials: store.credentials().clone(),
        })
    }

    /// The page of keys under `prefix` after `after` (from the start when `None`).
    pub async fn page(&self, prefix: &str, after: Option<&str>) -> Result<Page> {
        let mut query = vec![
            ("encoding-type", "url".to_string()),
            ("list-type", "2".to_string()),
        ];
        if !prefix.is_empty() {
            query.push(("prefix", prefix.to_string()));
        }
        if let Some(after) = after {
            query.push(("start-after", after.to_string()));
        }
        query.sort();
        let query: String = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let credential = self
            .credentials
            .get_credential()
            .await
            .context("no S3 credentials")?;
        let now = chrono::Utc::now();
        let headers = sign(&self.base, &query, &self.region, &credential, now);
        let mut url = self.base.clone();
        url.set_query(Some(&query));
        let mut request = self.client.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.context("S3 list request")?;
        let status = response.status();
        let body = response.text().await.context("S3 list response")?;
        if !status.is_success() {
            bail!(
                "S3 list answered {status}: {}",
                body.chars().take(300).collect::<String>()
            );
        }
        parse(&body)
    }
}

/// The headers that sign a GET of `base?query` (SigV4, an empty body).
fn sign(
    base: &url::Url,
    query: &str,
    region: &str,
    credential: &AwsCredential,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(&'static str, String)> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let day = now.format("%Y%m%d").to_string();
    let host = match (base.host_str(), base.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    };
    let path: String = match base.path() {
        "" | "/" => "/".to_string(),
        p => p.to_string(),
    };
    let empty = sha256_hex(b"");
    let mut headers = vec![
        ("host", host),
        ("x-amz-content-sha256", empty.clone()),
        ("x-amz-date", amz_date.clone()),
    ];
    if let Some(token) = &credential.token {
        headers.push(("x-amz-security-token", token.clone()));
    }
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed: String = headers
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!("GET\n{path}\n{query}\n{canonical_headers}\n{signed}\n{empty}");
    let scope = format!("{day}/{region}/s3/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let key = hmac(format!("AWS4{}", credential.secret_key).as_bytes(), &day);
    let key = hmac(&key, region);
    let key = hmac(&key, "s3");
    let key = hmac(&key, "aws4_request");
    let signature = hex(&hmac(&key, &to_sign));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        credential.key_id
    );
    headers.retain(|(k, _)| *k != "host");
    headers.push(("authorization", authorization));
    headers
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBucketResult {
    #[serde(default)]
    is_truncated: bool,
    #[serde(default)]
    encoding_type: Option<String>,
    #[serde(default)]
    contents: Vec<Contents>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Contents {
    key: String,
}

/// A ListObjectsV2 response body: its keys, URL-decoded when the server says it encoded them.
fn parse(body: &str) -> Result<Page> {
    let result: ListBucketResult = quick_xml::de::from_str(body).with_context(|| {
        format!(
            "not a ListObjectsV2 response: {}",
            body.chars().take(300).collect::<String>()
        )
    })?;
    let encoded = result
        .encoding_type
        .is_some_and(|e| e.eq_ignore_ascii_case("url"));
    let keys = result
        .contents
        .into_iter()
        .map(|c| {
            if encoded {
                percent_encoding::percent_decode_str(&c.key.replace('+', " "))
                    .decode_utf8()
                    .map(|k| k.into_owned())
                    .with_context(|| format!("key {:?} is not UTF-8 once decoded", c.key))
            } else {
                Ok(c.key)
            }
        })
        .collect::<Result<_>>()?;
    Ok(Page {
        keys,
        truncated: result.is_truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_aws_documents_it() {
        // AWS's documented example for a GET of a bucket's objects (Signature Version 4,
        // "Example: GET Bucket (List Objects)"): the same request gives the same signature.
        let base = url::Url::parse("https://examplebucket.s3.amazonaws.com").expect("url");
        let credential = AwsCredential {
            key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            token: None,
        };
        let now = chrono::DateTime::parse_from_rfc3339("2013-05-24T00:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        let headers = sign(&base, "max-keys=2&prefix=J", "us-east-1", &credential, now);
        let auth = &headers
            .iter()
            .find(|(k, _)| *k == "authorization")
            .expect("signed")
            .1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    #[test]
    fn keys_come_back_decoded_and_hostile_bodies_are_errors() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<Contents><Key>v1/a/..%2Fb.json</Key><Size>1</Size></Contents>
<Contents><Key>v1/a/%2E/c%01.json</Key><Size>1</Size></Contents>
<Contents><Key>v1/a//d+e.json</Key><Size>1</Size></Contents>
</ListBucketResult>"#;
        let page = parse(body).expect("parses");
        assert_eq!(
            page.keys,
            ["v1/a/../b.json", "v1/a/./c\u{1}.json", "v1/a//d e.json"]
        );
        assert!(page.truncated);
        let empty = parse("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")
            .expect("an empty page");
        assert_eq!(empty, Page::default());
        for hostile in [
            "",
            "<html>",
            "<ListBucketResult><Contents><Key>%FF</Key></Contents><EncodingType>url</EncodingType></ListBucketResult>",
            &"<a>".repeat(10_000),
        ] {
            assert!(parse(hostile).is_err(), "{hostile:.40}");
        }
    }
}
