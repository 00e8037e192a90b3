//! Source lines for guest program counters, from the DWARF sections of the component's core
//! modules, parsed once per component. (wasmtime's own backtrace details re-parse the DWARF on
//! every capture, milliseconds each; a re-execution captures a backtrace per host call.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use gimli::{EndianArcSlice, LittleEndian, SectionId};
use wasmparser::{KnownCustom, Name, Parser, Payload};

type Reader = EndianArcSlice<LittleEndian>;

/// One symbol of a frame: the function (inlined ones first) and its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The linkage name as DWARF spells it (mangled for Rust).
    pub name: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// The DWARF of one core module.
struct ModuleDwarf {
    /// Where the code section's contents start, in the same coordinates as wasmtime's
    /// `FrameInfo::module_offset` (the component file).
    code_section_offset: u64,
    context: addr2line::Context<Reader>,
}

/// Symbolizes frames of every core module with DWARF, by the module's name-section name. The
/// DWARF is read on the first lookup.
pub struct Symbolizer {
    component: Arc<[u8]>,
    modules: OnceLock<Mutex<HashMap<String, ModuleDwarf>>>,
    /// Looked-up program counters, per module.
    cache: Mutex<HashMap<ModulePc, Arc<[Symbol]>>>,
}

/// A program counter in a core module, named by its name-section name.
type ModulePc = (String, u64);

#[derive(Default)]
struct Pending {
    name: Option<String>,
    code_section_offset: Option<u64>,
    sections: HashMap<&'static str, Vec<u8>>,
}

const DWARF_SECTIONS: [SectionId; 10] = [
    SectionId::DebugAbbrev,
    SectionId::DebugAddr,
    SectionId::DebugInfo,
    SectionId::DebugLine,
    SectionId::DebugLineStr,
    SectionId::DebugRanges,
    SectionId::DebugRngLists,
    SectionId::DebugStr,
    SectionId::DebugStrOffsets,
    SectionId::DebugLocLists,
];

impl Symbolizer {
    pub fn new(component: Arc<[u8]>) -> Symbolizer {
        Symbolizer { component, modules: OnceLock::new(), cache: Mutex::new(HashMap::new()) }
    }

    fn modules(&self) -> &Mutex<HashMap<String, ModuleDwarf>> {
        self.modules.get_or_init(|| Mutex::new(read_dwarf(&self.component)))
    }

    /// True when some module has DWARF.
    pub fn has_debug_info(&self) -> bool {
        !self.modules().lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// The symbols (innermost inlined function first) at `offset` of module `module`.
    pub fn lookup(&self, module: &str, offset: u64) -> Arc<[Symbol]> {
        let key = (module.to_owned(), offset);
        if let Some(found) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return found.clone();
        }
        let symbols: Arc<[Symbol]> = self.find(module, offset).into();
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key, symbols.clone());
        symbols
    }

    fn find(&self, module: &str, offset: u64) -> Vec<Symbol> {
        let modules = self.modules().lock().unwrap_or_else(|p| p.into_inner());
        let Some(m) = modules.get(module) else { return Vec::new() };
        let Some(address) = offset.checked_sub(m.code_section_offset) else { return Vec::new() };
        let mut out = Vec::new();
        if let Ok(mut frames) = m.context.find_frames(address).skip_all_loads() {
            while let Ok(Some(frame)) = frames.next() {
                let location = frame.location.as_ref();
                out.push(Symbol {
                    name: frame.function.as_ref().and_then(|f| f.raw_name().ok()).map(|n| n.to_string()),
                    file: location.and_then(|l| l.file).map(str::to_owned),
                    line: location.and_then(|l| l.line),
                    column: location.and_then(|l| l.column),
                });
            }
        }
        out
    }
}

/// The DWARF of every core module of `component` (modules without DWARF are skipped; a
/// malformed section only loses its lines).
fn read_dwarf(component: &[u8]) -> HashMap<String, ModuleDwarf> {
    {
        let mut modules = HashMap::new();
        let mut stack: Vec<Pending> = Vec::new();
        for payload in Parser::new(0).parse_all(component) {
            let Ok(payload) = payload else { break };
            match payload {
                Payload::ModuleSection { .. } => stack.push(Pending::default()),
                Payload::CodeSectionStart { range, .. } => {
                    if let Some(top) = stack.last_mut() {
                        top.code_section_offset = Some(range.start as u64);
                    }
                }
                Payload::CustomSection(reader) => {
                    let Some(top) = stack.last_mut() else { continue };
                    if let KnownCustom::Name(names) = reader.as_known() {
                        for name in names.flatten() {
                            if let Name::Module { name, .. } = name {
                                top.name = Some(name.to_owned());
                            }
                        }
                    } else if let Some(id) = DWARF_SECTIONS.iter().find(|id| id.name() == reader.name()) {
                        top.sections.insert(id.name(), reader.data().to_vec());
                    }
                }
                Payload::End(_) => {
                    if let Some(done) = stack.pop()
                        && let (Some(name), Some(offset)) = (done.name.clone(), done.code_section_offset)
                        && done.sections.contains_key(".debug_info")
                        && let Some(context) = context(done.sections)
                    {
                        modules.insert(name, ModuleDwarf { code_section_offset: offset, context });
                    }
                }
                _ => {}
            }
        }
        modules
    }
}

fn context(mut sections: HashMap<&'static str, Vec<u8>>) -> Option<addr2line::Context<Reader>> {
    let dwarf = gimli::Dwarf::load(|id| -> Result<Reader, gimli::Error> {
        let data: Arc<[u8]> = sections.remove(id.name()).unwrap_or_default().into();
        Ok(EndianArcSlice::new(data, LittleEndian))
    })
    .ok()?;
    addr2line::Context::from_dwarf(dwarf).ok()
}
