-- After pandoc's citeproc: every bibliography entry, written by pandoc's own HTML and plain
-- writers, as one JSON object on standard output. evidence reads this instead of a whole document so that each
-- entry keeps its citation key (its div's id) and the text of a list is what pandoc itself prints.
-- All entries are written in one document per writer, each after a separator paragraph, and split by the reader:
-- a writer call per entry cost pandoc more than formatting the list.
local SEPARATOR = 'evidence-entry-5f3a9c'
local options = {wrap_text = 'wrap-none'}

local function as_inline_blocks(blocks)
  if #blocks == 1 and blocks[1].t == 'Para' then
    return {pandoc.Plain(blocks[1].content)}
  end
  return blocks
end

local function written(pieces, wanted)
  local blocks = {}
  for _, piece in ipairs(pieces) do
    table.insert(blocks, pandoc.Para({pandoc.Str(SEPARATOR)}))
    for _, block in ipairs(piece) do
      table.insert(blocks, block)
    end
  end
  local doc = pandoc.Pandoc(blocks)
  local out = {}
  if wanted:find('html') then out.html = pandoc.write(doc, 'html', options) end
  if wanted:find('text') then out.text = pandoc.write(doc, 'plain', options) end
  return out
end

function Pandoc(doc)
  -- which writers the caller needs ('text', 'html' or both): each costs a pass over the whole list
  local wanted = doc.meta['evidence-writers'] and pandoc.utils.stringify(doc.meta['evidence-writers']) or 'text html'
  local entry_keys, entry_blocks = {}, {}
  doc.blocks:walk({
    Div = function(div)
      if div.identifier:sub(1, 4) == 'ref-' and div.classes:includes('csl-entry') then
        table.insert(entry_keys, div.identifier:sub(5))
        table.insert(entry_blocks, as_inline_blocks(div.content))
      end
    end,
  })
  local answer = {
    separator = SEPARATOR,
    entry_keys = entry_keys,
    entries = written(entry_blocks, wanted),
  }
  return pandoc.Pandoc({pandoc.RawBlock('plain', pandoc.json.encode(answer))})
end
