-- Published Markdown that reads as a writer would type it: the bibliography's divs and spans unwrapped (one
-- paragraph per entry, its number joined to it), links to the list's entries reduced to their text. Claims stay
-- as [the words]{.claim #id}, so evidence still reads them.
function Div(div)
  return div.content
end

function Span(span)
  if span.classes:includes('claim') then
    return span
  end
  return span.content
end

function Link(link)
  if link.target:sub(1, 5) == '#ref-' then
    return link.content
  end
  return link
end
