-- A Word article as evidence reads articles: one line per paragraph (so a line number is the paragraph's number in
-- Word), headings as Markdown headings, citations as typed ([@key]), and each claim in evidence's Markdown form
-- [the claim's words]{.claim #id}. A claim is marked in Word by either
--   a comment on its words whose text is '#id' or 'claim #id', or
--   a character style named 'claim #id' (or 'claim:id') on its words.
-- Other comments, and the text of every comment, are not part of the article.

local CLAIM_STYLE = '^[Cc]laim%s*[#:]%s*([%w:._%-]+)%s*$'

local function claim_id_of_comment(span)
  local text = pandoc.utils.stringify(span.content)
  local id = text:match('^%s*#([%w:._%-]+)%s*$') or text:match('^%s*[Cc]laim%s*#?([%w:._%-]+)%s*$')
  return id
end

local function inline_text(inlines)
  local out = {}
  local open = {}  -- comment id -> claim id, for the comments that mark claims
  for _, el in ipairs(inlines) do
    if el.t == 'Span' and el.classes:includes('comment-start') then
      local claim = claim_id_of_comment(el)
      if claim then
        open[el.attributes.id or ''] = claim
        table.insert(out, '[')
      end
    elseif el.t == 'Span' and el.classes:includes('comment-end') then
      local claim = open[el.attributes.id or '']
      if claim then
        table.insert(out, ']{.claim #' .. claim .. '}')
        open[el.attributes.id or ''] = nil
      end
    elseif el.t == 'Span' and el.classes:includes('deletion') then
      -- a tracked deletion is not part of the text (an insertion is, as any span)
    elseif el.t == 'Span' and el.attributes['custom-style'] and el.attributes['custom-style']:match(CLAIM_STYLE) then
      local claim = el.attributes['custom-style']:match(CLAIM_STYLE)
      table.insert(out, '[' .. inline_text(el.content) .. ']{.claim #' .. claim .. '}')
    elseif el.t == 'Span' or el.t == 'Emph' or el.t == 'Strong' or el.t == 'Underline' or el.t == 'SmallCaps'
        or el.t == 'Strikeout' or el.t == 'Superscript' or el.t == 'Subscript' or el.t == 'Quoted' then
      local inner = inline_text(el.content)
      if el.t == 'Quoted' then
        inner = (el.quotetype == 'SingleQuote' and '‘' .. inner .. '’') or ('“' .. inner .. '”')
      end
      table.insert(out, inner)
    elseif el.t == 'Link' then
      table.insert(out, inline_text(el.content))
    elseif el.t == 'Note' then
      -- a footnote's text is read where it is anchored
      table.insert(out, ' ' .. pandoc.utils.stringify(el.content) .. ' ')
    elseif el.t == 'Space' or el.t == 'SoftBreak' or el.t == 'LineBreak' then
      table.insert(out, ' ')
    else
      table.insert(out, pandoc.utils.stringify(el))
    end
  end
  return table.concat(out)
end

local function lines_of(blocks, out, prefix)
  for _, block in ipairs(blocks) do
    if block.t == 'Header' then
      table.insert(out, string.rep('#', block.level) .. ' ' .. inline_text(block.content))
    elseif block.t == 'Para' or block.t == 'Plain' then
      table.insert(out, prefix .. inline_text(block.content))
    elseif block.t == 'BulletList' or block.t == 'OrderedList' then
      for number, item in ipairs(block.content) do
        local mark = block.t == 'BulletList' and '- ' or (tostring(number) .. '. ')
        lines_of(item, out, prefix .. mark)
      end
    elseif block.t == 'BlockQuote' or block.t == 'Div' then
      lines_of(block.content, out, prefix)
    elseif block.t == 'Table' then
      table.insert(out, prefix .. pandoc.utils.stringify(block))
    elseif block.t == 'CodeBlock' then
      table.insert(out, prefix .. block.text:gsub('\n', ' '))
    else
      local text = pandoc.utils.stringify(block)
      table.insert(out, text)
    end
  end
  return out
end

function Pandoc(doc)
  local lines = lines_of(doc.blocks, {}, '')
  for index, line in ipairs(lines) do
    lines[index] = line:gsub('[\r\n]+', ' ')
  end
  return pandoc.Pandoc({pandoc.RawBlock('plain', table.concat(lines, '\n') .. '\n')})
end
