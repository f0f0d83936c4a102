def test_public_letter_page_shows_the_letter(client, letter):
    response = client.get(f"/letters/{letter.slug}")
    assert response.status_code == 200
    assert "Ratify the OP-ICESCR" in response.get_data(as_text=True)
