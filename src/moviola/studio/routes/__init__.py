"""The studio's routes, one module per part of the page: ``site`` (the page, health, the
effects' declarations), ``media`` (the media folders and uploads), ``jobs`` (running effects and
shot detection, results, live updates), ``editing`` (shot lists, exports, search), ``music``
(the music panel's choices, a score's MIDI file), ``library`` (timeline, assets, presets,
projects, batches) and ``pick`` (a subject clicked on the player's frame).

Each module lists its routes in ``ROUTES``; the handlers read the studio's shared state from
``request.app.state`` (see moviola.studio.state).
"""
