-- After pandoc's citeproc: every bibliography entry, written by pandoc's own HTML and plain
-- writers, as one JSON object on standard output. evidence reads this instead of a whole document so that each
-- entry keeps its citation key (its div's id) and the text of a list is what pandoc itself prints.
-- All entries are written in one document per writer, each after a separator paragraph, and split by the reader:
-- a writer call per entry cost pandoc more than formatting the list. The entries are found in citeproc's refs div
-- by descending only through divs: a walk over every inline of the document cost a tenth of the run.
local SEPARATOR = 'evidence-entry-5f3a9c'
local options = {wrap_text = 'wrap-none'}

local function as_inline_blocks(blocks)
  if #blocks == 1 and blocks[1].t == 'Para' then
    return {pandoc.Plain(blocks[1].content)}
  end
  return blocks
end

-- citeproc's bibliography: the div with id 'refs', at the top or inside another div
local function find_refs(blocks)
  for _, block in ipairs(blocks) do
    if block.t == 'Div' then
      if block.identifier == 'refs' then return block end
      local inner = find_refs(block.content)
      if inner then return inner end
    end
  end
end

function Pandoc(doc)
  -- which writers the caller needs ('text', 'html' or both): each costs a pass over the whole list
  local wanted = doc.meta['evidence-writers'] and pandoc.utils.stringify(doc.meta['evidence-writers']) or 'text html'
  local entry_keys, blocks = {}, {}
  local refs = find_refs(doc.blocks)
  if refs then
    for _, div in ipairs(refs.content) do
      if div.t == 'Div' and div.identifier:sub(1, 4) == 'ref-' and div.classes:includes('csl-entry') then
        table.insert(entry_keys, div.identifier:sub(5))
        table.insert(blocks, pandoc.Para({pandoc.Str(SEPARATOR)}))
        for _, block in ipairs(as_inline_blocks(div.content)) do table.insert(blocks, block) end
      end
    end
  end
  local out = {}
  local written = pandoc.Pandoc(blocks)
  if wanted:find('html') then out.html = pandoc.write(written, 'html', options) end
  if wanted:find('text') then out.text = pandoc.write(written, 'plain', options) end
  local answer = {separator = SEPARATOR, entry_keys = entry_keys, entries = out}
  return pandoc.Pandoc({pandoc.RawBlock('plain', pandoc.json.encode(answer))})
end
