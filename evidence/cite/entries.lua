-- After pandoc's citeproc: every bibliography entry and every citation, written by pandoc's own HTML and plain
-- writers, as one JSON object on standard output. evidence reads this instead of a whole document so that each
-- entry keeps its citation key (its div's id) and the text of a list is what pandoc itself would print.
local options = {wrap_text = 'wrap-none'}

local function inline_blocks(blocks)
  if #blocks == 1 and blocks[1].t == 'Para' then
    return pandoc.Pandoc({pandoc.Plain(blocks[1].content)})
  end
  return pandoc.Pandoc(blocks)
end

local function written(doc)
  return {html = pandoc.write(doc, 'html', options), text = pandoc.write(doc, 'plain', options)}
end

function Pandoc(doc)
  local entries = {}
  local citations = {}
  doc.blocks:walk({
    Cite = function(cite)
      local keys = {}
      for _, citation in ipairs(cite.citations) do
        table.insert(keys, citation.id)
      end
      local out = written(pandoc.Pandoc({pandoc.Plain(cite.content)}))
      out.keys = keys
      table.insert(citations, out)
    end,
    Div = function(div)
      if div.identifier:sub(1, 4) == 'ref-' and div.classes:includes('csl-entry') then
        local out = written(inline_blocks(div.content))
        out.key = div.identifier:sub(5)
        table.insert(entries, out)
      end
    end,
  })
  local answer = pandoc.json.encode({entries = entries, citations = citations})
  return pandoc.Pandoc({pandoc.RawBlock('plain', answer)})
end
