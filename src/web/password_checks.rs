//! Password checks, bounded. argon2 takes 7 MiB and tens of milliseconds a check, so only
//! as many run at once as there are cores, on threads of their own (the memory each thread
//! keeps is then bounded too), and a burst beyond a short queue is turned away at once
//! instead of piling up.

use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::rules::passwords;

type Job = Box<dyn FnOnce() + Send>;

pub struct PasswordChecks {
    jobs: SyncSender<Job>,
}

impl PasswordChecks {
    /// One checking thread per core, and a queue of eight checks per thread.
    pub fn new() -> anyhow::Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = sync_channel::<Job>(threads * 8);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Whether `password` matches the stored hash, or `None` when too many checks are
    /// already waiting.
    pub async fn matches(
        &self,
        stored_hash: String,
        password: Option<SecretString>,
    ) -> Option<bool> {
        let password = password.unwrap_or_else(|| SecretString::from(String::new()));
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .try_send(Box::new(move || {
                let _ = answer.send(passwords::matches(&stored_hash, &password));
            }))
            .ok()?;
        answered.await.ok()
    }
}
