//! A buffered output file whose errors name it (symbol and frame outputs).

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A buffered output file whose errors name it.
pub(crate) struct FileOut {
    path: PathBuf,
    w: BufWriter<File>,
}

impl FileOut {
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(FileOut {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 16, f),
        })
    }
    pub(crate) fn write(&mut self, b: &[u8]) -> Result<()> {
        self.w.write_all(b).map_err(|e| Error::io(&self.path, e))
    }
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::io(&self.path, e))?;
        self.w
            .get_ref()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))
    }
}
